// Platform admins (JWT `admin: true`): ban, silence and reactivate a user across every channel.
// On Matrix a ban is a ban in each channel's room and a silence a power level below
// events_default, so they bind Element users; native users are also refused by Parley itself.
import type { Logger } from "../../logging.ts";
import { ProtocolError } from "../../protocol/errors.ts";
import { pushFrame } from "../../protocol/frames.ts";
import type { UserId } from "../../protocol/ids.ts";
import type { Actor } from "../actor.ts";
import type { FanOut } from "../ports/fanout.ts";
import type { MatrixPort } from "../ports/matrix.ts";
import type { ChannelRow, Store } from "../ports/store.ts";
import { SILENCED_UNTIL } from "./moderation.ts";

export interface Admin {
  ban(actor: Actor, userId: UserId): Promise<{ channels: number }>;
  silence(actor: Actor, userId: UserId): Promise<{ channels: number }>;
  reactivate(actor: Actor, userId: UserId): Promise<{ channels: number }>;
}

export function createAdmin(store: Store, matrix: MatrixPort, fanout: FanOut, log: Logger): Admin {
  const requireAdmin = (actor: Actor) => {
    if (!actor.admin) throw new ProtocolError("chat.denied", "Only platform admins can do this.");
  };
  const setLevel = async (channel: ChannelRow, userId: UserId, level: number | null) => {
    store.setPowerLevels(channel.id, await matrix.setPowerLevel(channel.roomId, userId, level));
  };
  const tell = (userId: UserId, state: string) =>
    fanout.sendToUser(userId, pushFrame("user.status", { id: userId, status: state }));

  return {
    async ban(actor, userId) {
      requireAdmin(actor);
      const channels = store.channelsJoinedBy(userId);
      store.setUserStatus(userId, { ...store.userStatus(userId), banned: true });
      for (const channel of channels) {
        await matrix.moderate(
          channel.roomId,
          null,
          "ban",
          userId,
          `banned from the platform by ${actor.userId}`,
        );
      }
      tell(userId, "banned");
      // Their open connections end too, with a close code that tells clients not to come back.
      fanout.disconnectUser(userId, "banned");
      return { channels: channels.length };
    },

    async silence(actor, userId) {
      requireAdmin(actor);
      const channels = store.channelsJoinedBy(userId);
      store.setUserStatus(userId, { ...store.userStatus(userId), silenced: true });
      for (const channel of channels) {
        if (store.timeout(channel.id, userId)) continue;
        const explicit = (channel.powerLevels as { users?: Record<string, number> } | null)?.users?.[userId];
        await setLevel(channel, userId, -1);
        store.putTimeout({
          channelId: channel.id,
          userId,
          until: SILENCED_UNTIL,
          previousLevel: explicit ?? null,
          by: actor.userId,
          reason: "silenced",
        });
      }
      tell(userId, "silenced");
      return { channels: channels.length };
    },

    async reactivate(actor, userId) {
      requireAdmin(actor);
      store.setUserStatus(userId, { banned: false, silenced: false });
      let touched = 0;
      for (const channel of store.allChannels()) {
        if (store.member(channel.id, userId)?.membership === "ban") {
          await matrix.moderate(channel.roomId, null, "unban", userId, `reactivated by ${actor.userId}`);
          touched++;
        }
        const silenced = store.timeout(channel.id, userId);
        if (silenced?.until === SILENCED_UNTIL) {
          try {
            await setLevel(channel, userId, silenced.previousLevel);
            store.removeTimeout(channel.id, userId);
            touched++;
          } catch (error) {
            log.warn(`restoring ${userId} in ${channel.name} failed`, error);
            throw error;
          }
        }
      }
      tell(userId, "active");
      return { channels: touched };
    },
  };
}
