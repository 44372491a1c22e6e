// Event subscriptions (outgoing webhooks): signed, at-least-once, in order per channel.
import { z } from "zod";
import { ProtocolError } from "../../protocol/errors.ts";
import { subscriptionRequestSchema } from "../../protocol/subscriptions.ts";
import { actorOf } from "../access.ts";
import { answer, defineOperation } from "../define.ts";
import { emptyAnswer } from "../schemas.ts";

const tag = "subscriptions";

const subscriptionView = z.object({
  id: z.string(),
  url: z.string(),
  channels: z.array(z.string()).nullable().describe("null: every channel, those made later too"),
  events: z.array(z.string()).nullable().describe("null: every event type"),
  created_at: z.number(),
  created_by: z.string(),
});

export const subscriptionOperations = [
  defineOperation({
    method: "POST",
    path: "/api/v1/subscriptions",
    operationId: "createSubscription",
    summary: "Subscribe a URL to logged events",
    description:
      "Parley POSTs each matching logged event to `url` as `{id, subscription, event}`, signed with " +
      "`X-Parley-Signature: sha256=<hex HMAC-SHA256 of the raw body with the secret>`; at-least-once, in " +
      "`event_id` order per channel, retried with back-off for at least 24 hours. The secret is shown only here.",
    tag,
    scope: "admin",
    body: subscriptionRequestSchema.strict(),
    responses: {
      201: { description: "Subscribed", schema: subscriptionView.extend({ secret: z.string() }) },
    },
    handle: async ({ body, caller, services }) =>
      answer(201, await services.subscriptions.create({ ...body, createdBy: actorOf(caller).userId })),
  }),
  defineOperation({
    method: "GET",
    path: "/api/v1/subscriptions",
    operationId: "listSubscriptions",
    summary: "The event subscriptions",
    tag,
    scope: "admin",
    responses: {
      200: { description: "Every subscription", schema: z.object({ results: z.array(subscriptionView) }) },
    },
    handle: async ({ services }) => answer(200, { results: await services.subscriptions.list() }),
  }),
  defineOperation({
    method: "DELETE",
    path: "/api/v1/subscriptions/{id}",
    operationId: "deleteSubscription",
    summary: "Remove a subscription (deliveries stop at once)",
    tag,
    scope: "admin",
    params: z.object({ id: z.string().max(64) }),
    notFound: true,
    responses: { 200: { description: "Removed", schema: emptyAnswer } },
    async handle({ params, services }) {
      if (!(await services.subscriptions.remove(params.id))) {
        throw new ProtocolError("chat.unknown", "No such subscription.");
      }
      return answer(200, {});
    },
  }),
];
