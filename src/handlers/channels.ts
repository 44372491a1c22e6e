// chat.join, chat.leave, chat.subscribe, chat.unsubscribe.
import { presenceKey } from "../domain/presence.ts";
import { channelPayload, subscribePayload } from "../protocol/schemas.ts";
import { action } from "./context.ts";

export const channelActions = {
  // Join implies subscribe: the joiner sees its own join event.
  "chat.join": action(channelPayload, async ({ session, user, services }, { channel }) => {
    const wasSubscribed = session.isSubscribed(channel);
    session.subscribe(channel);
    try {
      return await services.membership.join(user, channel);
    } catch (error) {
      if (!wasSubscribed) session.unsubscribe(channel);
      throw error;
    }
  }),

  // Leaving keeps this connection's subscription: the user stops being visible, not listening.
  "chat.leave": action(channelPayload, async ({ user, services }, { channel }) => {
    await services.membership.leave(user.userId, channel);
    return {};
  }),

  "chat.subscribe": action(subscribePayload, async ({ session, user, services }, { channel, presence }) => {
    const wasSubscribed = session.isSubscribed(channel);
    try {
      // Subscribed before the snapshot is read: nothing logged in between goes unpushed.
      return await services.membership.open(user, channel, () => {
        session.subscribe(channel);
        // Presence pushes travel on their own key: only those who asked hear them.
        if (presence === true) session.subscribe(presenceKey(channel));
        else if (presence === false) session.unsubscribe(presenceKey(channel));
      });
    } catch (error) {
      if (!wasSubscribed) session.unsubscribe(channel);
      throw error;
    }
  }),

  // Unsubscribe implies leave (the seed's rule). Closing a socket only drops its subscriptions.
  "chat.unsubscribe": action(channelPayload, async ({ session, user, services }, { channel }) => {
    await services.membership.leave(user.userId, channel);
    session.unsubscribe(channel);
    session.unsubscribe(presenceKey(channel));
    return {};
  }),
};
