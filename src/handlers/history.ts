// chat.fetch, chat.mark_read, chat.members and chat.media.
import { ProtocolError } from "../protocol/errors.ts";
import type { ChannelName } from "../protocol/ids.ts";
import { channelPayload, fetchPayload, markReadPayload, mediaPayload } from "../protocol/schemas.ts";
import { action, type HandlerContext } from "./context.ts";

/**
 * Reading a channel obeys the same rules as entering it (bans, join policies; private
 * conversations look missing to outsiders), and a channel that is not public only to those who
 * subscribe to it or joined it.
 */
async function checkReader({ session, user, services }: HandlerContext, name: ChannelName): Promise<void> {
  const channel = await services.channels.get(name, user);
  await services.gatekeeper.checkEnter(channel, user);
  if (
    channel.joinRule !== "public" &&
    !session.isSubscribed(channel.name) &&
    !(await services.membership.isJoined(user.userId, channel))
  ) {
    throw new ProtocolError("chat.denied", "Subscribe to or join this channel to read it.");
  }
}

export const historyActions = {
  "chat.fetch": action(fetchPayload, async (ctx, payload) => {
    await checkReader(ctx, payload.channel);
    return ctx.services.history.fetch(payload, ctx.user.userId);
  }),

  "chat.mark_read": action(markReadPayload, async (ctx, { channel, id }) => {
    await checkReader(ctx, channel);
    const { session, user, services } = ctx;
    await services.readState.markRead(user.userId, session.connectionId, channel, id);
    return {};
  }),

  "chat.members": action(channelPayload, async (ctx, { channel }) => {
    await checkReader(ctx, channel);
    const list = await ctx.services.membership.list(ctx.user, channel);
    const presence = await ctx.services.presence.seen(list.members.map((member) => member.id));
    // Someone invisible looks offline to others here too.
    const online = list.online.filter((id) => presence[id] !== "offline" || id === ctx.user.userId);
    return { ...list, online, presence };
  }),

  "chat.media": action(mediaPayload, async (ctx, { channel, ...page }) => {
    await checkReader(ctx, channel);
    return ctx.services.media.gallery(channel, page, ctx.user.userId);
  }),
};
