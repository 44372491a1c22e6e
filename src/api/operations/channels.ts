// Channels as the platform manages them: directory, create/configure, status, close, members.
import { actorOf, callerOf, readableChannel, userIdOf } from "../access.ts";
import { answer, defineOperation } from "../define.ts";
import {
  channelConfigureBody,
  channelParams,
  channelStatus,
  directoryAnswer,
  directoryQuery,
  emptyAnswer,
  memberParams,
  membersAnswer,
  nativeMemberParams,
  reasonBody,
} from "../schemas.ts";

const tag = "channels";

export const channelOperations = [
  defineOperation({
    method: "GET",
    path: "/api/v1/channels",
    operationId: "listChannels",
    summary: "The channel directory",
    description:
      "Open channels by name, a page at a time; `search` matches name or topic. Admin keys also see " +
      "invite-only channels (never direct or moderators' channels).",
    tag,
    scope: "read",
    query: directoryQuery,
    responses: { 200: { description: "A page of channels", schema: directoryAnswer } },
    handle: async ({ query, caller, services }) =>
      answer(
        200,
        await services.platformChannels.directory({
          search: query.search,
          cursor: query.cursor,
          count: query.count,
          includePrivate: callerOf(caller).actor.admin,
        }),
      ),
  }),
  defineOperation({
    method: "PUT",
    path: "/api/v1/channels/{channel}",
    operationId: "putChannel",
    summary: "Create or configure a channel",
    description:
      "Creates the channel (201) or changes it (200): topic, public (anyone may join) or invite-only, and " +
      "its settings as `chat.settings` takes them.",
    tag,
    scope: "admin",
    params: channelParams,
    body: channelConfigureBody,
    upstream: true,
    responses: {
      200: { description: "Changed", schema: channelStatus },
      201: { description: "Created", schema: channelStatus },
    },
    async handle({ params, body, caller, services }) {
      const created = await services.platformChannels.configure(actorOf(caller), params.channel, body);
      return answer(created ? 201 : 200, await services.platformChannels.status(params.channel));
    },
  }),
  defineOperation({
    method: "GET",
    path: "/api/v1/channels/{channel}",
    operationId: "getChannel",
    summary: "A channel's status",
    tag,
    scope: "read",
    params: channelParams,
    notFound: true,
    responses: { 200: { description: "The channel", schema: channelStatus } },
    async handle({ params, caller, services }) {
      await readableChannel(services, caller, params.channel, { closedToo: true });
      return answer(200, await services.platformChannels.status(params.channel));
    },
  }),
  defineOperation({
    method: "DELETE",
    path: "/api/v1/channels/{channel}",
    operationId: "closeChannel",
    summary: "Close a channel",
    description:
      "Every member is removed, the Matrix room becomes invite-only and loses its alias; history is kept " +
      "and `GET` still shows the channel, with `closed: true`. Nobody can join it again.",
    tag,
    scope: "admin",
    params: channelParams,
    notFound: true,
    upstream: true,
    responses: { 200: { description: "Closed", schema: emptyAnswer } },
    async handle({ params, services }) {
      await services.platformChannels.close(params.channel);
      return answer(200, {});
    },
  }),
  defineOperation({
    method: "GET",
    path: "/api/v1/channels/{channel}/members",
    operationId: "listMembers",
    summary: "A channel's members",
    tag,
    scope: "read",
    params: channelParams,
    notFound: true,
    responses: { 200: { description: "Its members", schema: membersAnswer } },
    async handle({ params, caller, services }) {
      await readableChannel(services, caller, params.channel);
      return answer(200, { members: await services.platformChannels.members(params.channel) });
    },
  }),
  defineOperation({
    method: "PUT",
    path: "/api/v1/channels/{channel}/members/{user}",
    operationId: "addMember",
    summary: "Add a native user to a channel",
    description:
      "The user (one who has logged in before) joins as if they had joined themselves, under the same " +
      "rules (bans, join policies); Matrix follows through the outbox. Matrix users are invited from Matrix.",
    tag,
    scope: "admin",
    params: nativeMemberParams,
    notFound: true,
    responses: { 200: { description: "A member now", schema: emptyAnswer } },
    async handle({ params, services }) {
      await services.platformChannels.addMember(params.channel, services.naming.nativeUserId(params.user));
      return answer(200, {});
    },
  }),
  defineOperation({
    method: "DELETE",
    path: "/api/v1/channels/{channel}/members/{user}",
    operationId: "removeMember",
    summary: "Remove (kick) anyone from a channel",
    tag,
    scope: "admin",
    params: memberParams,
    body: reasonBody.optional(),
    notFound: true,
    responses: { 200: { description: "Removed", schema: emptyAnswer } },
    async handle({ params, body, caller, services }) {
      await services.platformChannels.open(params.channel);
      await services.moderation.act(
        actorOf(caller),
        params.channel,
        "kick",
        userIdOf(services, params.user),
        body?.reason,
      );
      return answer(200, {});
    },
  }),
];
