// In-process fan-out: subscriber sets per channel and connection sets per user. One encoded string
// per broadcast, shared by every recipient.
import type { FanOut, Subscriber } from "../domain/ports/fanout.ts";
import { EncodedFrame } from "../protocol/frames.ts";
import type { ChannelName, UserId } from "../protocol/ids.ts";

function setIn<K, V>(map: Map<K, Set<V>>, key: K): Set<V> {
  let set = map.get(key);
  if (!set) {
    set = new Set();
    map.set(key, set);
  }
  return set;
}

export function createLocalFanOut(): FanOut {
  const byChannel = new Map<ChannelName, Set<Subscriber>>();
  const byUser = new Map<UserId, Set<Subscriber>>();
  const channelsOf = new Map<Subscriber, Set<ChannelName>>();

  const unsubscribe = (channel: ChannelName, subscriber: Subscriber) => {
    const set = byChannel.get(channel);
    if (set?.delete(subscriber) && set.size === 0) byChannel.delete(channel);
    channelsOf.get(subscriber)?.delete(channel);
  };

  return {
    addConnection(subscriber) {
      setIn(byUser, subscriber.userId).add(subscriber);
    },
    removeConnection(subscriber) {
      for (const channel of [...(channelsOf.get(subscriber) ?? [])]) unsubscribe(channel, subscriber);
      channelsOf.delete(subscriber);
      const set = byUser.get(subscriber.userId);
      if (set?.delete(subscriber) && set.size === 0) byUser.delete(subscriber.userId);
    },
    subscribe(channel, subscriber) {
      setIn(byChannel, channel).add(subscriber);
      setIn(channelsOf, subscriber).add(channel);
    },
    unsubscribe,
    isSubscribed: (channel, subscriber) => byChannel.get(channel)?.has(subscriber) ?? false,
    subscribers: (channel) => [...(byChannel.get(channel) ?? [])],
    unsubscribeUser(channel, userId, notice) {
      const encoded = new EncodedFrame(notice);
      for (const subscriber of [...(byChannel.get(channel) ?? [])]) {
        if (subscriber.userId !== userId) continue;
        unsubscribe(channel, subscriber);
        subscriber.deliver(encoded);
      }
    },
    subscribeUser(channel, userId) {
      for (const subscriber of byUser.get(userId) ?? []) {
        setIn(byChannel, channel).add(subscriber);
        setIn(channelsOf, subscriber).add(channel);
      }
    },
    publish(channel, frame, filter) {
      const set = byChannel.get(channel);
      if (!set || set.size === 0) return;
      const encoded = new EncodedFrame(frame);
      for (const subscriber of set) if (!filter || filter(subscriber)) subscriber.deliver(encoded);
    },
    sendToUser(userId, frame, exceptId) {
      const set = byUser.get(userId);
      if (!set) return;
      const encoded = new EncodedFrame(frame);
      for (const subscriber of set) if (subscriber.id !== exceptId) subscriber.deliver(encoded);
    },
    isOnline: (userId) => (byUser.get(userId)?.size ?? 0) > 0,
    disconnectUser(userId, reason) {
      for (const subscriber of [...(byUser.get(userId) ?? [])]) subscriber.close(reason);
    },
  };
}
