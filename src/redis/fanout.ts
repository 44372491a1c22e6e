// The fan-out of a node in a cluster: this node's connections in process (src/fanout/local.ts),
// everyone else's through the bus, and who is online anywhere through Redis presence.
import type { FanOut, LocalFanOut } from "../domain/ports/fanout.ts";
import type { RedisBus } from "./bus.ts";
import type { Presence } from "./presence.ts";

export function createClusterFanOut(here: LocalFanOut, bus: RedisBus, presence: Presence): FanOut {
  // What other nodes ask of this node's connections.
  bus.serveConnections({
    publish: (channel, frame) => here.publishHere(channel, frame),
    sendToUser: (userId, frame) => here.sendToUserHere(userId, frame),
    subscribeUser: (channel, userId) => here.subscribeUserHere(channel, userId),
    unsubscribeUser: (channel, userId, notice) => here.unsubscribeUserHere(channel, userId, notice),
    disconnectUser: (userId, reason) => here.disconnectUserHere(userId, reason),
  });
  return {
    ...here,
    addConnection(subscriber) {
      here.addConnection(subscriber);
      presence.connections(subscriber.userId, here.connectionCountHere(subscriber.userId));
    },
    removeConnection(subscriber) {
      here.removeConnection(subscriber);
      presence.connections(subscriber.userId, here.connectionCountHere(subscriber.userId));
    },
    publish(channel, frame) {
      here.publishHere(channel, frame);
      bus.elsewhere.publish(channel, frame);
    },
    sendToUser(userId, frame, exceptId) {
      here.sendToUserHere(userId, frame, exceptId);
      bus.elsewhere.sendToUser(userId, frame);
    },
    subscribeUser(channel, userId) {
      here.subscribeUserHere(channel, userId);
      bus.elsewhere.subscribeUser(channel, userId);
    },
    unsubscribeUser(channel, userId, notice) {
      here.unsubscribeUserHere(channel, userId, notice);
      bus.elsewhere.unsubscribeUser(channel, userId, notice);
    },
    disconnectUser(userId, reason) {
      here.disconnectUserHere(userId, reason);
      bus.elsewhere.disconnectUser(userId, reason);
    },
    onlineAmong: (userIds) => presence.onlineAmong(userIds),
    onlineUsers: () => presence.onlineUsers(),
    connectionCount: async (userId) =>
      here.connectionCountHere(userId) + (await presence.connectionsElsewhere(userId)),
  };
}
