// The fan-out port: who is listening where, and delivery to them. The in-process implementation is
// src/fanout/local.ts; a Redis-backed one would implement the same interface across processes.
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

export interface FanOut {
  addConnection(subscriber: Subscriber): void;
  removeConnection(subscriber: Subscriber): void;
  subscribe(channel: ChannelName, subscriber: Subscriber): void;
  unsubscribe(channel: ChannelName, subscriber: Subscriber): void;
  isSubscribed(channel: ChannelName, subscriber: Subscriber): boolean;
  subscribers(channel: ChannelName): Subscriber[];
  /** Unsubscribes every connection of a user from a channel, telling each with `notice`. */
  unsubscribeUser(channel: ChannelName, userId: UserId, notice: OutgoingFrame): void;
  /** Subscribes every open connection of a user (someone opened a direct channel with them). */
  subscribeUser(channel: ChannelName, userId: UserId): void;
  /**
   * Encodes the frame once and hands it to every subscriber of the channel (that `filter` lets
   * through), in call order.
   */
  publish(channel: ChannelName, frame: OutgoingFrame, filter?: (subscriber: Subscriber) => boolean): void;
  /** To every connection of a user, except the one with id `exceptId`. */
  sendToUser(userId: UserId, frame: OutgoingFrame, exceptId?: number): void;
  isOnline(userId: UserId): boolean;
  /** Closes every connection of a user (a platform ban), with a code that says not to come back. */
  disconnectUser(userId: UserId, reason: CloseCodeName): void;
}
