// In-process fan-out: subscriber sets per channel and connections per user. One encoded frame per
// broadcast, shared by every recipient. Alone it is the whole fan-out of a one-node installation;
// across nodes, src/redis/fanout.ts carries what concerns other nodes and delegates here. A connection's own bookkeeping is kept small (Bag: no Set
// until a second entry), since a live event holds tens of thousands of them.
import type { FanOut, LocalFanOut, Subscriber } from "../domain/ports/fanout.ts";
import { EncodedFrame } from "../protocol/frames.ts";
import type { ChannelName, UserId } from "../protocol/ids.ts";
import { Bag } from "../shared/bag.ts";

export function createLocalFanOut(): LocalFanOut {
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
    unsubscribeUserHere(channel, userId, notice) {
      const encoded = new EncodedFrame(notice);
      for (const subscriber of [...(byChannel.get(channel) ?? [])]) {
        if (subscriber.userId !== userId) continue;
        unsubscribe(channel, subscriber);
        subscriber.deliver(encoded);
      }
    },
    subscribeUserHere(channel, userId) {
      byUser.forEach(userId, (subscriber) => subscribe(channel, subscriber));
    },
    publishHere(channel, frame, filter) {
      const set = byChannel.get(channel);
      if (!set || set.size === 0) return;
      const encoded = new EncodedFrame(frame);
      if (filter) {
        for (const subscriber of set) if (filter(subscriber)) subscriber.deliver(encoded);
      } else {
        for (const subscriber of set) subscriber.deliver(encoded);
      }
    },
    sendToUserHere(userId, frame, exceptId) {
      if (byUser.size(userId) === 0) return;
      const encoded = new EncodedFrame(frame);
      byUser.forEach(userId, (subscriber) => {
        if (subscriber.id !== exceptId) subscriber.deliver(encoded);
      });
    },
    isConnectedHere: (userId) => byUser.size(userId) > 0,
    connectedHere: () => [...byUser.keys()],
    connectionCountHere: (userId) => byUser.size(userId),
    disconnectUserHere(userId, reason) {
      for (const subscriber of [...byUser.values(userId)]) subscriber.close(reason);
    },
  };
}

/** The fan-out of a single node: every node is this one. */
export function createSingleNodeFanOut(): FanOut {
  const here = createLocalFanOut();
  return {
    ...here,
    publish: (channel, frame) => here.publishHere(channel, frame),
    sendToUser: (userId, frame, exceptId) => here.sendToUserHere(userId, frame, exceptId),
    subscribeUser: (channel, userId) => here.subscribeUserHere(channel, userId),
    unsubscribeUser: (channel, userId, notice) => here.unsubscribeUserHere(channel, userId, notice),
    disconnectUser: (userId, reason) => here.disconnectUserHere(userId, reason),
    onlineAmong: async (userIds) => new Set(userIds.filter((id) => here.isConnectedHere(id))),
    onlineUsers: async () => here.connectedHere(),
    connectionCount: async (userId) => here.connectionCountHere(userId),
  };
}
