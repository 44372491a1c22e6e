// chat.webhook.create / list / delete: a channel's incoming webhooks (PROTOCOL.md section 11).
import { channelPayload, webhookCreatePayload, webhookDeletePayload } from "../protocol/schemas.ts";
import { action } from "./context.ts";

export const webhookActions = {
  "chat.webhook.create": action(webhookCreatePayload, async ({ user, services }, { channel, ...hook }) =>
    services.webhooks.create(user, channel, hook),
  ),
  "chat.webhook.list": action(channelPayload, async ({ user, services }, { channel }) => ({
    results: await services.webhooks.list(user, channel),
  })),
  "chat.webhook.delete": action(webhookDeletePayload, async ({ user, services }, { channel, id }) => {
    await services.webhooks.delete(user, channel, id);
    return {};
  }),
};
