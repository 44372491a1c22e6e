// Who may enter a channel (join, subscribe, read) and who may post in it now. One place for
// platform bans and silences, channel bans, moderator channels, join policies, timeouts, rules
// and slow mode, so every path (native send, join, subscribe, fetch) applies the same rules.
import { ProtocolError } from "../../protocol/errors.ts";
import type { Actor } from "../actor.ts";
import type { ChannelRow, Store } from "../ports/store.ts";
import { type Moderation, untilOnWire } from "./moderation.ts";
import { readPowerLevels } from "./power-levels.ts";
import type { Role, Roles } from "./roles.ts";
import type { Settings, SettingsView } from "./settings.ts";

export interface ChannelDescription {
  readonly role: Role;
  readonly rules: string | null;
  readonly settings: SettingsView;
}

export interface Gatekeeper {
  checkEnter(channel: ChannelRow, actor: Actor): Promise<void>;
  /** `change`: an edit or delete, which rules and slow mode do not limit. */
  checkPost(channel: ChannelRow, actor: Actor, kind?: "post" | "change"): Promise<void>;
  describe(channel: ChannelRow, actor: Actor): Promise<ChannelDescription>;
}

export function createGatekeeper(
  store: Store,
  roles: Roles,
  settings: Settings,
  moderation: Moderation,
): Gatekeeper {
  const checkPlatform = async (actor: Actor) => {
    if ((await store.userStatus(actor.userId)).banned)
      throw new ProtocolError("chat.denied", "You are banned from this platform.");
  };
  return {
    async checkEnter(channel, actor) {
      if (channel.closedAt != null) throw new ProtocolError("chat.denied", "This channel is closed.");
      await checkPlatform(actor);
      if ((await store.member(channel.id, actor.userId))?.membership === "ban")
        throw new ProtocolError("channel.banned");
      // Private conversations and moderators' channels were refused (as unknown) when the channel
      // was looked up for this actor (Channels.get).
      if (!actor.admin) await settings.checkAccess(channel, actor.userId, actor.isGuest);
    },
    async checkPost(channel, actor, kind = "post") {
      await checkPlatform(actor);
      if ((await store.userStatus(actor.userId)).silenced)
        throw new ProtocolError("chat.denied", "You have been silenced.");
      if ((await store.member(channel.id, actor.userId))?.membership === "ban")
        throw new ProtocolError("channel.banned");
      // In a direct channel, a member who blocked you does not take your messages.
      const blockers = await store.controllersOf(actor.userId, "block");
      if (
        blockers.length > 0 &&
        (await store.directMembers(channel.id)).some((id) => blockers.includes(id))
      ) {
        throw new ProtocolError("chat.denied", "Someone in this conversation does not take your messages.");
      }
      const until = await moderation.timedOutUntil(channel, actor.userId);
      if (until !== undefined) {
        throw new ProtocolError("channel.timed_out", "You are timed out in this channel.", {
          until: untilOnWire(until),
        });
      }
      // Muted on Matrix (a power level set in Element): the homeserver would refuse it.
      const levels = readPowerLevels(channel.powerLevels);
      if (levels.of(actor.userId) < levels.post) {
        throw new ProtocolError("chat.denied", "You cannot post in this channel.");
      }
      if (!actor.admin && kind === "post") await settings.checkPost(channel, actor.userId);
    },
    async describe(channel, actor) {
      const { rules, settings: view } = await settings.view(channel);
      return { role: roles.role(channel, actor.userId, actor.admin), rules, settings: view };
    },
  };
}
