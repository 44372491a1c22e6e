// chat.fetch, chat.mark_read and chat.members.
import { channelPayload, fetchPayload, markReadPayload, mediaPayload } from "../protocol/schemas.ts";
import { action } from "./context.ts";

export const historyActions = {
  "chat.fetch": action(fetchPayload, async ({ session, user, services }, payload) =>
    services.history.fetch(
      payload,
      (channel) => session.isSubscribed(channel.name) || services.membership.isJoined(user.userId, channel),
      (channel, event) =>
        services.audiences.hears(channel, user.userId, event) &&
        !services.relations.hides(user.userId, event),
    ),
  ),

  "chat.mark_read": action(markReadPayload, async ({ session, user, services }, { channel, id }) => {
    await services.readState.markRead(user.userId, session.connectionId, channel, id);
    return {};
  }),

  "chat.members": action(channelPayload, async ({ user, services }, { channel }) =>
    services.membership.list(user, channel),
  ),

  "chat.media": action(mediaPayload, async ({ session, user, services }, { channel, ...page }) =>
    services.media.gallery(
      channel,
      page,
      (row) => session.isSubscribed(row.name) || services.membership.isJoined(user.userId, row),
    ),
  ),
};
