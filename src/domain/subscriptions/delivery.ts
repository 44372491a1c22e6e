// One delivery of an event subscription, pure: its id, body and signature, whether a
// subscription wants an event, and how long a failed one waits before the next attempt.
import { createHash, createHmac } from "node:crypto";
import { isReservedName } from "../channels.ts";
import { toChatEvent } from "../event-log.ts";
import type { ChannelRow, StoredEvent, SubscriptionRow } from "../ports/store.ts";

export interface Delivery {
  /** The same for every attempt at one event: receivers dedupe with it. */
  readonly id: string;
  /** The exact bytes signed and sent. */
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
}

/** A UUID (version 5 layout) from a SHA-256 of the subscription, the channel and the event. */
export function deliveryId(subscriptionId: string, channelId: number, seq: number): string {
  const bytes = createHash("sha256").update(`parley.delivery/${subscriptionId}/${channelId}/${seq}`).digest();
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x50;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.subarray(0, 16).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** `sha256=` and the hex HMAC-SHA256 of the raw body with the subscription's secret. */
export const signatureOf = (secret: string, body: string): string =>
  `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;

export function deliveryOf(
  subscription: SubscriptionRow,
  channel: ChannelRow,
  stored: StoredEvent,
): Delivery {
  const id = deliveryId(subscription.id, channel.id, stored.seq);
  // toChatEvent carries the channel's name: the event as chat.event pushes it.
  const body = JSON.stringify({ id, subscription: subscription.id, event: toChatEvent(channel, stored) });
  return {
    id,
    body,
    headers: {
      "content-type": "application/json",
      "user-agent": "Parley",
      "x-parley-delivery": id,
      "x-parley-signature": signatureOf(subscription.secret, body),
    },
  };
}

/** Never a private conversation (direct or moderators' channel), whatever the filter says. */
export const follows = (subscription: SubscriptionRow, channelName: string): boolean =>
  !isReservedName(channelName) &&
  (subscription.channels === null || subscription.channels.includes(channelName));

export const wants = (subscription: SubscriptionRow, eventType: string): boolean =>
  subscription.events === null || subscription.events.includes(eventType);

/** The wait after the `failures`-th failed attempt: `first`, doubling, at most `max`. */
export const retryDelay = (failures: number, first: number, max: number): number =>
  Math.min(max, first * 2 ** Math.min(Math.max(failures - 1, 0), 40));
