// Posting, history and moderation in a channel.
import { ProtocolError } from "../../protocol/errors.ts";
import { actorOf, callerOf, readableChannel, userIdOf } from "../access.ts";
import { answer, defineOperation } from "../define.ts";
import {
  channelParams,
  eventAnswer,
  historyAnswer,
  historyQuery,
  messageBody,
  moderationAnswer,
  moderationBody,
} from "../schemas.ts";

const tag = "messages";

const missing = (field: string, why: string) =>
  new ProtocolError("protocol.invalid_payload", why, { fields: [field] });

export const messageOperations = [
  defineOperation({
    method: "POST",
    path: "/api/v1/channels/{channel}/messages",
    operationId: "postMessage",
    summary: "Post a message",
    description:
      "Posted as the key's integration user (display name = the key's name; it joins the channel on its " +
      "first post), or with an admin key `as` a native user. The same path as a native `chat.send`: same " +
      "checks, same log, pushed to native clients at once and mirrored to Matrix through the outbox. " +
      "A retry with the same `txn_id` returns the first post's event. `as` posts only where that user is a member. Keys below admin post to public " +
      "channels and to those their integration was added to.",
    tag: "messages",
    scope: "post",
    params: channelParams,
    body: messageBody,
    notFound: true,
    responses: { 201: { description: "Posted", schema: eventAnswer } },
    async handle({ params, body, caller, services }) {
      const { actor } = callerOf(caller);
      // Where it may read: an invite-only channel takes posts only from admin keys and members.
      await readableChannel(services, caller, params.channel);
      const request = {
        channel: params.channel,
        event_type: "channel.message",
        content: body.content,
        txn_id: body.txn_id,
        reply_to: body.reply_to,
      };
      if (body.as === undefined) {
        return answer(201, { event: await services.integrationPosts.post(actor, request) });
      }
      if (!actor.admin) throw new ProtocolError("api.forbidden", "Only admin keys post `as` someone.");
      const userId = services.naming.nativeUserId(body.as);
      if (!(await services.users.native(userId))) {
        throw new ProtocolError("user.not_found", `No native user ${body.as}.`);
      }
      const as = { userId, admin: false, isGuest: false };
      // Only where they are a member, under their own rights: the platform speaks for them, it
      // does not move them.
      return answer(201, { event: await services.integrationPosts.post(as, request, { enter: false }) });
    },
  }),
  defineOperation({
    method: "GET",
    path: "/api/v1/channels/{channel}/messages",
    operationId: "listMessages",
    summary: "History, as chat.fetch",
    tag,
    scope: "read",
    params: channelParams,
    query: historyQuery,
    notFound: true,
    upstream: true,
    responses: { 200: { description: "A page of history", schema: historyAnswer } },
    async handle({ params, query, caller, services }) {
      await readableChannel(services, caller, params.channel);
      // The backend hears everything, as the bridge bot does (no audience or ignore filters).
      return answer(
        200,
        await services.history.fetch({ channel: params.channel, ...query }, services.naming.botUserId),
      );
    },
  }),
  defineOperation({
    method: "POST",
    path: "/api/v1/channels/{channel}/moderation",
    operationId: "moderate",
    summary: "Kick, ban, unban, time out or set a role",
    description:
      "As the protocol's moderation actions, done by the key's integration with a platform admin's rights.",
    tag,
    scope: "admin",
    params: channelParams,
    body: moderationBody,
    notFound: true,
    responses: { 200: { description: "Done", schema: moderationAnswer } },
    async handle({ params, body, caller, services }) {
      const actor = actorOf(caller);
      const target = userIdOf(services, body.user);
      const { channel } = params;
      await services.platformChannels.open(channel);
      switch (body.action) {
        case "kick":
        case "ban":
        case "unban":
          await services.moderation.act(actor, channel, body.action, target, body.reason);
          return answer(200, {});
        case "timeout":
          return answer(
            200,
            await services.moderation.timeout(actor, channel, target, body.duration, body.reason),
          );
        case "untimeout":
          await services.moderation.untimeout(actor, channel, target);
          return answer(200, {});
        case "set_role":
          if (body.role === undefined) throw missing("role", "set_role needs `role`.");
          return answer(200, await services.moderation.setRole(actor, channel, target, body.role));
      }
    },
  }),
];
