// Mentions notify: a native member mentioned in a message gets `chat.notification` on all their
// connections, and the channel's notification count grows until they mark it read.

import type { ChatEvent } from "../protocol/events.ts";
import { pushFrame } from "../protocol/frames.ts";
import type { UserId } from "../protocol/ids.ts";
import { dict } from "../shared/dict.ts";
import type { Hearing } from "./hearing.ts";
import type { Naming } from "./naming.ts";
import type { FanOut } from "./ports/fanout.ts";
import type { ChannelRow, Store } from "./ports/store.ts";
import type { Users } from "./users.ts";

export interface Notifications {
  /**
   * A new message: in a direct channel everyone else is notified, elsewhere the users it
   * mentions. Only joined native members get notifications.
   */
  mentioned(channel: ChannelRow, event: ChatEvent, mentions: readonly UserId[]): Promise<void>;
  counts(userId: UserId): Promise<Record<string, number>>;
  /** After a read: drops notifications up to `seq` and tells all the user's connections. */
  read(userId: UserId, channel: ChannelRow, seq: number): Promise<void>;
}

export interface NotificationsDeps {
  readonly store: Store;
  readonly fanout: FanOut;
  readonly users: Users;
  readonly naming: Naming;
  readonly hearing: Hearing;
}

export function createNotifications(deps: NotificationsDeps): Notifications {
  const { store, fanout, users, naming, hearing } = deps;
  const counts = async (userId: UserId): Promise<Record<string, number>> => {
    const result = dict<number>();
    for (const { channelId, count } of await store.notificationCounts(userId)) {
      const channel = await store.channelById(channelId);
      if (channel) result[channel.name] = count;
    }
    return result;
  };
  return {
    counts,
    async mentioned(channel, event, mentions) {
      const sender = event.sender && (await users.knownView(event.sender));
      const direct = await store.directMembers(channel.id);
      for (const userId of direct.length > 0 ? direct : mentions) {
        if (
          userId === event.sender ||
          !naming.isNativeUser(userId) ||
          !(await hearing.hears(channel, userId, event))
        )
          continue;
        if ((await store.member(channel.id, userId))?.membership !== "join") continue;
        await store.addNotification(userId, channel.id, event.event_id);
        // Do-not-disturb: counted (the badge is right later), not pushed now.
        if ((await store.presenceOf([userId])).get(userId)?.status === "dnd") continue;
        fanout.sendToUser(userId, pushFrame("chat.notification", { event, sender: sender ?? null }));
        fanout.sendToUser(userId, pushFrame("chat.notification_counts", await counts(userId)));
      }
    },
    async read(userId, channel, seq) {
      const before =
        (await store.notificationCounts(userId)).find((c) => c.channelId === channel.id)?.count ?? 0;
      await store.clearNotifications(userId, channel.id, seq);
      if (before > 0) fanout.sendToUser(userId, pushFrame("chat.notification_counts", await counts(userId)));
    },
  };
}
