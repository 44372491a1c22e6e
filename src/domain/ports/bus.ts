// The cluster bus port: what one node tells the others. Logged events go to every node (each pushes
// them to its own subscribers), and notices tell the others that something they cache or wait
// for changed. One node alone needs none of it (src/fanout/local-bus.ts); across nodes it is
// Redis pub/sub (src/redis/bus.ts), which may lose messages while Redis is away: event gaps are
// filled from the store (domain/event-stream.ts), and notices only hurry up what periodic work does.
import type { ChatEvent } from "../../protocol/events.ts";
import type { UserId } from "../../protocol/ids.ts";

export type ClusterNotice =
  /** A channel's join policy changed: each node rechecks its own listeners. */
  | { readonly kind: "policy-changed"; readonly channelId: number }
  /** Someone's audience in a channel changed. */
  | { readonly kind: "audiences-changed"; readonly channelId: number }
  /** Someone (un)ignored `userId`. */
  | { readonly kind: "ignores-changed"; readonly userId: UserId }
  /** Transactions from the homeserver were written to the inbox. */
  | { readonly kind: "inbox-recorded" }
  /** A channel's outbox has new entries. */
  | { readonly kind: "outbox-queued"; readonly channelId: number }
  /** An event subscription was made or removed: the delivering node reads them again. */
  | { readonly kind: "subscriptions-changed" }
  /** A logged event changed (a media mark): each node pushes `chat.event.update` to its own. */
  | { readonly kind: "event-updated"; readonly channelId: number; readonly seq: number };

export interface ClusterBus {
  /** This node's id (unique while it runs). */
  readonly nodeId: string;
  /** Hands a newly logged event to every other node. */
  publishEvent(channelId: number, event: ChatEvent): void;
  onEvent(handler: (channelId: number, event: ChatEvent) => void): void;
  notify(notice: ClusterNotice): void;
  onNotice(handler: (notice: ClusterNotice) => void): void;
  /** After the bus was away (Redis restarted): what was sent meanwhile may be lost. */
  onResubscribed(handler: () => void): void;
}
