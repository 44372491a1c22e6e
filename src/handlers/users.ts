// user.update and user.fetch.
import { ProtocolError } from "../protocol/errors.ts";
import type { UserView } from "../protocol/events.ts";
import { pushFrame } from "../protocol/frames.ts";
import { userFetchPayload, userUpdatePayload } from "../protocol/schemas.ts";
import { action } from "./context.ts";

export const userActions = {
  "user.update": action(userUpdatePayload, async ({ session, user, services }, { profile }) => {
    const view = await services.users.updateProfile(user.userId, {
      display_name: profile.display_name,
      avatar_url: profile.avatar_url ?? null,
    });
    services.fanout.sendToUser(user.userId, pushFrame("user.updated", view), session.connectionId);
    return {};
  }),

  "user.fetch": action(userFetchPayload, async ({ services }, payload) => {
    if ("id" in payload) {
      const view = await services.users.fetch(payload.id);
      if (!view) throw new ProtocolError("user.not_found", `No user ${payload.id}.`);
      return view;
    }
    const found: Record<string, UserView> = {};
    for (const id of new Set(payload.ids)) {
      const view = await services.users.fetch(id);
      if (view) found[id] = view;
    }
    return found;
  }),
};
