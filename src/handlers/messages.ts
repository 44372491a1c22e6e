// chat.send.
import { sendPayload } from "../protocol/schemas.ts";
import { action } from "./context.ts";

export const messageActions = {
  "chat.send": action(sendPayload, async ({ user, services }, payload) => {
    const event = await services.messages.send(user.userId, payload);
    return { event };
  }),
};
