// The fan-out port: who is listening where, and delivery to them. A node holds its own connections
// (the *Here methods); the others reach every node's. In-process (src/fanout/local.ts) there is
// one node and both are the same; across nodes (src/redis/fanout.ts) the others travel on Redis.
import type { CloseCodeName } from "../../protocol/close-codes.ts";
import type { EncodedFrame, OutgoingFrame } from "../../protocol/frames.ts";
import type { ChannelName, UserId } from "../../protocol/ids.ts";

/** One client connection as the domain sees it: an identity and a way to hand it encoded frames. */
export interface Subscriber {
  readonly id: number;
  readonly userId: UserId;
  /** The client asked for member events of big channels in batches (`chat.events`). */
  readonly batchesMemberEvents: boolean;
  /** Must not block: called on the fan-out path with one shared, lazily encoded frame. */
  deliver(frame: EncodedFrame): void;
  /** Ends the connection with this close code. */
  close(reason: CloseCodeName): void;
}

/** This node's connections. */
export interface LocalFanOut {
  addConnection(subscriber: Subscriber): void;
  removeConnection(subscriber: Subscriber): void;
  subscribe(channel: ChannelName, subscriber: Subscriber): void;
  unsubscribe(channel: ChannelName, subscriber: Subscriber): void;
  isSubscribed(channel: ChannelName, subscriber: Subscriber): boolean;
  subscribers(channel: ChannelName): Subscriber[];
  /**
   * Encodes the frame once and hands it to every subscriber of the channel here (that `filter`
   * lets through), in call order. Logged events reach every node, and each pushes them here.
   */
  publishHere(channel: ChannelName, frame: OutgoingFrame, filter?: (subscriber: Subscriber) => boolean): void;
  /** To every connection of a user here, except the one with id `exceptId`. */
  sendToUserHere(userId: UserId, frame: OutgoingFrame, exceptId?: number): void;
  /** Unsubscribes every connection of a user here from a channel, telling each with `notice`. */
  unsubscribeUserHere(channel: ChannelName, userId: UserId, notice: OutgoingFrame): void;
  subscribeUserHere(channel: ChannelName, userId: UserId): void;
  disconnectUserHere(userId: UserId, reason: CloseCodeName): void;
  isConnectedHere(userId: UserId): boolean;
  /** Every user with a connection here. */
  connectedHere(): UserId[];
  /** How many connections the user has here. */
  connectionCountHere(userId: UserId): number;
}

/** Every node's connections. */
export interface FanOut extends LocalFanOut {
  /** To every subscriber of the channel on every node. */
  publish(channel: ChannelName, frame: OutgoingFrame): void;
  /** To every connection of a user; `exceptId` is a connection of this node (the one that asked). */
  sendToUser(userId: UserId, frame: OutgoingFrame, exceptId?: number): void;
  /** Subscribes every open connection of a user (someone opened a direct channel with them). */
  subscribeUser(channel: ChannelName, userId: UserId): void;
  /** Unsubscribes every connection of a user from a channel, telling each with `notice`. */
  unsubscribeUser(channel: ChannelName, userId: UserId, notice: OutgoingFrame): void;
  /** Closes every connection of a user (a platform ban), with a code that says not to come back. */
  disconnectUser(userId: UserId, reason: CloseCodeName): void;
  /** Those of `userIds` with a connection on any node. */
  onlineAmong(userIds: readonly UserId[]): Promise<Set<UserId>>;
  /** Every user with a connection on any node (the directory counts them per channel). */
  onlineUsers(): Promise<UserId[]>;
  /** How many connections the user has on every node. */
  connectionCount(userId: UserId): Promise<number>;
}
