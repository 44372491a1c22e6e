// One user: a server notification to their connections, platform-wide ban, silence, reactivate.
import { actorOf, userIdOf } from "../access.ts";
import { answer, defineOperation } from "../define.ts";
import { notifyAnswer, notifyBody, platformUserAnswer, userParams } from "../schemas.ts";

const tag = "users";

const platformAction = (action: "ban" | "silence" | "reactivate", summary: string) =>
  defineOperation({
    method: "POST",
    path: `/api/v1/users/{user}/${action}`,
    operationId: `${action}User`,
    summary,
    tag,
    scope: "admin",
    params: userParams,
    responses: { 200: { description: "Done; `channels` it applied in", schema: platformUserAnswer } },
    handle: async ({ params, caller, services }) =>
      answer(200, await services.admin[action](actorOf(caller), userIdOf(services, params.user))),
  });

export const userOperations = [
  defineOperation({
    method: "POST",
    path: "/api/v1/users/{user}/notify",
    operationId: "notifyUser",
    summary: "Send a server notification to a user's open connections",
    description:
      'Each open connection of the user (on every node) gets `["server.notify", payload]`; the answer counts them.',
    tag,
    scope: "post",
    params: userParams,
    body: notifyBody,
    responses: { 200: { description: "Sent", schema: notifyAnswer } },
    async handle({ params, body, services }) {
      const userId = userIdOf(services, params.user);
      const connections = await services.fanout.connectionCount(userId);
      if (connections > 0) services.fanout.sendToUser(userId, ["server.notify", body.payload]);
      return answer(200, { connections });
    },
  }),
  platformAction("ban", "Ban a user from the whole platform"),
  platformAction("silence", "Silence a user everywhere"),
  platformAction("reactivate", "Lift a platform ban or silence"),
];
