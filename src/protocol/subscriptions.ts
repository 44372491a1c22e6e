// What a new event subscription is made of (`POST /api/v1/subscriptions`): where to POST and what
// to send there. The domain validates with it; the HTTP API can describe its body with it.
import { z } from "zod";
import type { ChatEventType } from "./events.ts";
import { channelNameSchema } from "./schemas.ts";

export const SUBSCRIBABLE_EVENT_TYPES = [
  "channel.message",
  "channel.member",
  "channel.reaction",
] as const satisfies readonly ChatEventType[];

/**
 * An http(s) URL: a subscriber is POSTed to, nothing else is reached. Without user and password in
 * it (fetch refuses those: such a subscription could never be delivered to).
 */
const subscriberUrl = z
  .url({ protocol: /^https?$/, message: "an http:// or https:// URL" })
  .max(2048)
  .refine((url) => {
    // Not a URL at all is said by the check before.
    const parsed = URL.parse(url);
    return parsed === null || (parsed.username === "" && parsed.password === "");
  }, "no user or password in the URL");

export const subscriptionRequestSchema = z.object({
  url: subscriberUrl,
  /** The channels (by name) whose events it gets; absent: every channel, those made later too. */
  channels: z.array(channelNameSchema).min(1).max(1000).optional(),
  /** The event types it gets (chat.event's `event_type`); absent: every type. */
  events: z.array(z.enum(SUBSCRIBABLE_EVENT_TYPES)).min(1).max(SUBSCRIBABLE_EVENT_TYPES.length).optional(),
});

export type SubscriptionRequest = z.input<typeof subscriptionRequestSchema>;
