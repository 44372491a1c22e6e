// chat.fetch, chat.mark_read and chat.members.

import type { ChannelName } from "../protocol/ids.ts";
import { channelPayload, fetchPayload, markReadPayload, mediaPayload } from "../protocol/schemas.ts";
import { action, type HandlerContext } from "./context.ts";

/** Reading a channel obeys the same rules as entering it: bans, join policies, private channels. */
function checkReader({ user, services }: HandlerContext, name: ChannelName): void {
  const channel = services.membership.find(name);
  if (channel) services.gatekeeper.checkEnter(channel, user);
}

export const historyActions = {
  "chat.fetch": action(fetchPayload, async (ctx, payload) => {
    checkReader(ctx, payload.channel);
    const { session, user, services } = ctx;
    return services.history.fetch(
      payload,
      (channel) => session.isSubscribed(channel.name) || services.membership.isJoined(user.userId, channel),
      (channel, event) =>
        services.audiences.hears(channel, user.userId, event) &&
        !services.relations.hides(user.userId, event),
    );
  }),

  "chat.mark_read": action(markReadPayload, async ({ session, user, services }, { channel, id }) => {
    await services.readState.markRead(user.userId, session.connectionId, channel, id);
    return {};
  }),

  "chat.members": action(channelPayload, async (ctx, { channel }) => {
    checkReader(ctx, channel);
    return ctx.services.membership.list(ctx.user, channel);
  }),

  "chat.media": action(mediaPayload, async (ctx, { channel, ...page }) => {
    checkReader(ctx, channel);
    const { session, user, services } = ctx;
    return services.media.gallery(
      channel,
      page,
      (row) => session.isSubscribed(row.name) || services.membership.isJoined(user.userId, row),
    );
  }),
};
