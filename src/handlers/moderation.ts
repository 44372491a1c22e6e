// Moderation: kick, ban, unban, timeouts, roles, settings, rules, audiences, the moderators'
// channel, media review (chat.media.mark), and the platform admins' user.ban / user.silence /
// user.reactivate.
import {
  audiencePayload,
  channelPayload,
  mediaMarkPayload,
  moderatePayload,
  setRolePayload,
  settingsPayload,
  timeoutPayload,
  untimeoutPayload,
  userIdPayload,
} from "../protocol/schemas.ts";
import { action } from "./context.ts";

export const moderationActions = {
  "chat.kick": action(moderatePayload, async ({ user, services }, { channel, user: target, reason }) => {
    await services.moderation.act(user, channel, "kick", target, reason);
    return {};
  }),
  "chat.ban": action(moderatePayload, async ({ user, services }, { channel, user: target, reason }) => {
    await services.moderation.act(user, channel, "ban", target, reason);
    return {};
  }),
  "chat.unban": action(moderatePayload, async ({ user, services }, { channel, user: target, reason }) => {
    await services.moderation.act(user, channel, "unban", target, reason);
    return {};
  }),
  "chat.timeout": action(
    timeoutPayload,
    async ({ user, services }, { channel, user: target, duration, reason }) =>
      services.moderation.timeout(user, channel, target, duration, reason),
  ),
  "chat.untimeout": action(untimeoutPayload, async ({ user, services }, { channel, user: target }) => {
    await services.moderation.untimeout(user, channel, target);
    return {};
  }),
  "chat.set_role": action(setRolePayload, async ({ user, services }, payload) =>
    services.moderation.setRole(
      user,
      "channel" in payload ? payload.channel : undefined,
      payload.user,
      payload.role,
    ),
  ),
  "chat.settings": action(settingsPayload, async ({ user, services }, { channel, ...request }) => ({
    settings: await services.settings.update(user, channel, request),
  })),
  "chat.accept_rules": action(channelPayload, async ({ user, services }, { channel }) => {
    await services.settings.acceptRules(user, channel);
    return {};
  }),
  "chat.set_audience": action(
    audiencePayload,
    async ({ user, services }, { channel, user: target, audience }) => {
      await services.audiences.set(user, channel, target, audience);
      return {};
    },
  ),
  "chat.media.mark": action(mediaMarkPayload, async ({ user, services }, { channel, event, nsfw }) => ({
    event: await services.mediaReview.mark(user, channel, event, nsfw),
  })),
  "chat.mod_channel": action(channelPayload, async ({ session, user, services }, { channel }) => {
    const snapshot = await services.modChannels.open(user, channel);
    session.subscribe(snapshot.id);
    return snapshot;
  }),
  "user.ban": action(userIdPayload, async ({ user, services }, { id }) => services.admin.ban(user, id)),
  "user.silence": action(userIdPayload, async ({ user, services }, { id }) =>
    services.admin.silence(user, id),
  ),
  "user.reactivate": action(userIdPayload, async ({ user, services }, { id }) =>
    services.admin.reactivate(user, id),
  ),
};
