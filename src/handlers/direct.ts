// chat.direct.create and the personal controls: user.block / unblock / list.blocked, user.ignore /
// unignore.
import { z } from "zod";
import { directCreatePayload, userIdPayload } from "../protocol/schemas.ts";
import { action } from "./context.ts";

export const directActions = {
  "chat.direct.create": action(directCreatePayload, async ({ session, user, services }, { users }) => {
    const created = await services.direct.create(user, users);
    session.subscribe(created.id);
    return created;
  }),
  "user.block": action(userIdPayload, async ({ user, services }, { id }) => {
    await services.personalControls.set(user.userId, id, "block", true);
    return {};
  }),
  "user.unblock": action(userIdPayload, async ({ user, services }, { id }) => {
    await services.personalControls.set(user.userId, id, "block", false);
    return {};
  }),
  "user.list.blocked": action(z.object({}), async ({ user, services }) => ({
    users: await services.personalControls.list(user.userId, "block"),
  })),
  "user.ignore": action(userIdPayload, async ({ user, services }, { id }) => {
    await services.personalControls.set(user.userId, id, "ignore", true);
    return {};
  }),
  "user.unignore": action(userIdPayload, async ({ user, services }, { id }) => {
    await services.personalControls.set(user.userId, id, "ignore", false);
    return {};
  }),
};
