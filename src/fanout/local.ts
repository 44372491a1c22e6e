// In-process fan-out: subscriber sets per channel and connections per user. One encoded frame per
// broadcast, shared by every recipient. A connection's own bookkeeping is kept small (Bag: no Set
// until a second entry), since a live event holds tens of thousands of them.
import type { FanOut, Subscriber } from "../domain/ports/fanout.ts";
import { EncodedFrame } from "../protocol/frames.ts";
import type { ChannelName, UserId } from "../protocol/ids.ts";
import { Bag } from "../shared/bag.ts";

export function createLocalFanOut(): FanOut {
  const byChannel = new Map<ChannelName, Set<Subscriber>>();
  const byUser = new Bag<UserId, Subscriber>();
  const channelsOf = new Bag<Subscriber, ChannelName>();

  const subscribe = (channel: ChannelName, subscriber: Subscriber) => {
    let set = byChannel.get(channel);
    if (!set) {
      set = new Set();
      byChannel.set(channel, set);
    }
    set.add(subscriber);
    channelsOf.add(subscriber, channel);
  };

  const unsubscribe = (channel: ChannelName, subscriber: Subscriber) => {
    const set = byChannel.get(channel);
    if (set?.delete(subscriber) && set.size === 0) byChannel.delete(channel);
    channelsOf.delete(subscriber, channel);
  };

  return {
    addConnection(subscriber) {
      byUser.add(subscriber.userId, subscriber);
    },
    removeConnection(subscriber) {
      for (const channel of [...channelsOf.values(subscriber)]) unsubscribe(channel, subscriber);
      channelsOf.clear(subscriber);
      byUser.delete(subscriber.userId, subscriber);
    },
    subscribe,
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
      byUser.forEach(userId, (subscriber) => subscribe(channel, subscriber));
    },
    publish(channel, frame, filter) {
      const set = byChannel.get(channel);
      if (!set || set.size === 0) return;
      const encoded = new EncodedFrame(frame);
      if (filter) {
        for (const subscriber of set) if (filter(subscriber)) subscriber.deliver(encoded);
      } else {
        for (const subscriber of set) subscriber.deliver(encoded);
      }
    },
    sendToUser(userId, frame, exceptId) {
      if (byUser.size(userId) === 0) return;
      const encoded = new EncodedFrame(frame);
      byUser.forEach(userId, (subscriber) => {
        if (subscriber.id !== exceptId) subscriber.deliver(encoded);
      });
    },
    isOnline: (userId) => byUser.size(userId) > 0,
    disconnectUser(userId, reason) {
      for (const subscriber of [...byUser.values(userId)]) subscriber.close(reason);
    },
  };
}
