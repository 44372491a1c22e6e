// user.update and user.fetch.
import { ProtocolError } from "../protocol/errors.ts";
import type { UserView } from "../protocol/events.ts";
import { pushFrame } from "../protocol/frames.ts";
import { presencePayload, userFetchPayload, userUpdatePayload } from "../protocol/schemas.ts";
import { dict } from "../shared/dict.ts";
import { mapLimit } from "../shared/map-limit.ts";
import { action } from "./context.ts";

const USER_FETCH_CONCURRENCY = 8;

export const userActions = {
  "user.update": action(userUpdatePayload, async ({ session, user, services }, { profile }) => {
    const view = await services.users.updateProfile(user.userId, {
      display_name: profile.display_name,
      avatar_url: profile.avatar_url ?? null,
    });
    services.fanout.sendToUser(user.userId, pushFrame("user.updated", view), session.connectionId);
    return {};
  }),

  "user.presence": action(presencePayload, async ({ user, services }, { status }) => {
    await services.presence.choose(user.userId, status);
    services.fanout.showChosen(user.userId, status);
    return {};
  }),

  "user.fetch": action(userFetchPayload, async ({ user, services }, payload) => {
    if ("id" in payload) {
      const view = await services.users.fetch(payload.id, user);
      if (!view) throw new ProtocolError("user.not_found", `No user ${payload.id}.`);
      return view;
    }
    // Unknown Matrix users cost a homeserver lookup each: a few at a time, not one after another.
    const ids = [...new Set(payload.ids)];
    // One that cannot be looked up now (or not within the asker's budget) is left out of the map.
    const views = await mapLimit(ids, USER_FETCH_CONCURRENCY, (id) =>
      services.users.fetch(id, user).catch(() => undefined),
    );
    const found = dict<UserView>();
    for (const view of views) if (view) found[view.id] = view;
    return found;
  }),
};
