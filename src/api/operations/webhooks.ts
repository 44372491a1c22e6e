// A channel's incoming webhooks through the API (as chat.webhook.*), and the hooks' own URLs.
import { actorOf } from "../access.ts";
import { answer, defineOperation } from "../define.ts";
import {
  channelParams,
  emptyAnswer,
  hookParams,
  hookPosted,
  webhookCreateBody,
  webhookCreated,
  webhookList,
  webhookParams,
  webhookPostBody,
} from "../schemas.ts";

const tag = "webhooks";

export const webhookOperations = [
  defineOperation({
    method: "POST",
    path: "/api/v1/channels/{channel}/webhooks",
    operationId: "createWebhook",
    summary: "Create an incoming webhook",
    description: "Its `url` holds an unguessable secret and is shown only in this answer.",
    tag,
    scope: "admin",
    params: channelParams,
    body: webhookCreateBody,
    notFound: true,
    responses: { 201: { description: "Created", schema: webhookCreated } },
    async handle({ params, body, caller, services }) {
      await services.platformChannels.open(params.channel);
      return answer(201, await services.webhooks.create(actorOf(caller), params.channel, body));
    },
  }),
  defineOperation({
    method: "GET",
    path: "/api/v1/channels/{channel}/webhooks",
    operationId: "listWebhooks",
    summary: "A channel's webhooks",
    tag,
    scope: "admin",
    params: channelParams,
    notFound: true,
    responses: { 200: { description: "Its live webhooks", schema: webhookList } },
    async handle({ params, caller, services }) {
      await services.platformChannels.open(params.channel);
      return answer(200, { results: await services.webhooks.list(actorOf(caller), params.channel) });
    },
  }),
  defineOperation({
    method: "DELETE",
    path: "/api/v1/channels/{channel}/webhooks/{id}",
    operationId: "deleteWebhook",
    summary: "Delete a webhook (its URL stops working at once)",
    tag,
    scope: "admin",
    params: webhookParams,
    notFound: true,
    responses: { 200: { description: "Deleted", schema: emptyAnswer } },
    async handle({ params, caller, services }) {
      await services.platformChannels.open(params.channel);
      await services.webhooks.delete(actorOf(caller), params.channel, params.id);
      return answer(200, {});
    },
  }),
  defineOperation({
    method: "POST",
    path: "/hooks/{id}/{secret}",
    operationId: "postToWebhook",
    summary: "Post through an incoming webhook",
    description:
      "No API key: the URL is the credential. The message appears from the hook's own user, as an " +
      "`m.notice` unless `msgtype` is `m.text`; `username` renames that user.",
    tag,
    scope: null,
    params: hookParams,
    body: webhookPostBody,
    notFound: true,
    responses: { 200: { description: "Posted", schema: hookPosted } },
    async handle({ params, body, services }) {
      const text = body.text ?? body.body ?? "";
      const posted = await services.webhooks.post(params.id, params.secret, {
        text,
        msgtype: body.msgtype,
        username: body.username?.trim(),
      });
      return answer(200, { ok: true, event_id: posted.event_id });
    },
  }),
];
