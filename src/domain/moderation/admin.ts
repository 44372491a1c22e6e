// Platform admins (JWT `admin: true`): ban, silence and reactivate a user across every channel.
// On Matrix a ban is a ban in each channel's room and a silence a power level below
// events_default, so they bind Element users; native users are also refused by Parley itself.
// Both hold in Parley at once and reach the rooms through the outbox, done by the bridge bot.
import { ProtocolError } from "../../protocol/errors.ts";
import { pushFrame } from "../../protocol/frames.ts";
import type { UserId } from "../../protocol/ids.ts";
import type { Actor } from "../actor.ts";
import type { FanOut } from "../ports/fanout.ts";
import type { Store } from "../ports/store.ts";
import type { MemberActions } from "./member-actions.ts";
import { SILENCED_UNTIL } from "./moderation.ts";
import type { PowerLevelChanges } from "./power-level-changes.ts";

export interface Admin {
  ban(actor: Actor, userId: UserId): Promise<{ channels: number }>;
  silence(actor: Actor, userId: UserId): Promise<{ channels: number }>;
  reactivate(actor: Actor, userId: UserId): Promise<{ channels: number }>;
}

export interface AdminDeps {
  readonly store: Store;
  readonly fanout: FanOut;
  readonly memberActions: MemberActions;
  readonly powerLevels: PowerLevelChanges;
}

export function createAdmin(deps: AdminDeps): Admin {
  const { store, fanout, memberActions, powerLevels } = deps;
  const requireAdmin = (actor: Actor) => {
    if (!actor.admin) throw new ProtocolError("chat.denied", "Only platform admins can do this.");
  };
  const tell = (userId: UserId, state: string) =>
    fanout.sendToUser(userId, pushFrame("user.status", { id: userId, status: state }));

  return {
    async ban(actor, userId) {
      requireAdmin(actor);
      const channels = await store.channelsJoinedBy(userId);
      await store.setUserStatus(userId, { ...(await store.userStatus(userId)), banned: true });
      for (const channel of channels) {
        await memberActions.apply(channel, {
          target: userId,
          membership: "ban",
          by: actor.userId,
          matrixActor: null,
          reason: "banned from the platform",
        });
      }
      tell(userId, "banned");
      // Their open connections end too, with a close code that tells clients not to come back.
      fanout.disconnectUser(userId, "banned");
      return { channels: channels.length };
    },

    async silence(actor, userId) {
      requireAdmin(actor);
      const channels = await store.channelsJoinedBy(userId);
      await store.setUserStatus(userId, { ...(await store.userStatus(userId)), silenced: true });
      for (const channel of channels) {
        if (await store.timeout(channel.id, userId)) continue;
        const explicit = (channel.powerLevels as { users?: Record<string, number> } | null)?.users?.[userId];
        await powerLevels.set(channel, userId, -1);
        await store.putTimeout({
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
      await store.setUserStatus(userId, { banned: false, silenced: false });
      let touched = 0;
      for (const channel of await store.allChannels()) {
        if ((await store.member(channel.id, userId))?.membership === "ban") {
          await memberActions.apply(channel, {
            target: userId,
            membership: "leave",
            by: actor.userId,
            matrixActor: null,
            reason: "reactivated",
          });
          touched++;
        }
        const silenced = await store.timeout(channel.id, userId);
        if (silenced?.until === SILENCED_UNTIL) {
          await powerLevels.set(channel, userId, silenced.previousLevel);
          await store.removeTimeout(channel.id, userId);
          touched++;
        }
      }
      tell(userId, "active");
      return { channels: touched };
    },
  };
}
