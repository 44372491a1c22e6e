// chat.send, chat.react, chat.typing.
import { reactPayload, sendPayload, typingPayload } from "../protocol/schemas.ts";
import { action } from "./context.ts";

export const messageActions = {
  "chat.send": action(sendPayload, async ({ user, services }, payload) => {
    const event = await services.messages.send(user.userId, payload);
    return { event };
  }),

  "chat.react": action(reactPayload, async ({ user, services }, payload) => {
    await services.reactions.react(user.userId, payload);
    return {};
  }),

  "chat.typing": action(typingPayload, async ({ user, services }, { channel, typing }) => {
    await services.typing.setNative(user.userId, channel, typing);
    return {};
  }),
};
