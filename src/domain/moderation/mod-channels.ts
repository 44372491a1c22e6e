// A private channel per channel for its owner and moderators, created on demand: an invite-only
// room whose members are the channel's moderators (native and Matrix), for the DJ and their team.
import { createHash } from "node:crypto";
import { ProtocolError } from "../../protocol/errors.ts";
import { asChannelName, type ChannelName } from "../../protocol/ids.ts";
import type { Actor } from "../actor.ts";
import type { Channels } from "../channels.ts";
import type { ChannelSnapshot, Membership } from "../membership.ts";
import type { MatrixPort } from "../ports/matrix.ts";
import type { Store } from "../ports/store.ts";
import type { Roles } from "./roles.ts";

export interface ModChannels {
  open(actor: Actor, channel: ChannelName): Promise<ChannelSnapshot & { id: ChannelName }>;
}

/** `<channel>.mods`, or a hashed name when that would exceed 64 characters. */
export const modChannelName = (parent: ChannelName): ChannelName =>
  asChannelName(
    parent.length <= 59
      ? `${parent}.mods`
      : `mods.${createHash("sha256").update(parent).digest("hex").slice(0, 24)}`,
  );

export interface ModChannelsDeps {
  readonly store: Store;
  readonly matrix: MatrixPort;
  readonly channels: Channels;
  readonly roles: Roles;
  readonly membership: Membership;
}

export function createModChannels(deps: ModChannelsDeps): ModChannels {
  const { store, matrix, channels, roles, membership } = deps;
  return {
    async open(actor, name) {
      await membership.checkJoiner(actor);
      const parent = await channels.get(name, actor);
      if (!roles.canModerate(parent, actor.userId, actor.admin)) {
        throw new ProtocolError("chat.denied", "Only moderators and owners have a moderators' channel.");
      }
      const modName = modChannelName(parent.name);
      if (!(await store.modChannelOf(parent.id))) {
        // The parent's owner who opens it owns it from the first reply (a moderator who opens it
        // first does not come to outrank the owner there).
        const owner = roles.role(parent, actor.userId) === "owner" ? actor.userId : undefined;
        const { channel } = await channels.ensureNoting(modName, "private", owner);
        await store.updateSettings(channel.id, { parentChannelId: parent.id });
      }
      const modChannel = await store.modChannelOf(parent.id);
      if (!modChannel) throw new Error(`moderator channel of ${parent.name} vanished`);
      // The channel's current moderators who are not native (Element users) are invited; native
      // ones join through Parley when they open it.
      for (const member of await store.joinedMembers(parent.id)) {
        if (member.userId !== actor.userId && roles.canModerate(parent, member.userId)) {
          await matrix.invite(modChannel.roomId, member.userId);
        }
      }
      const snapshot = await membership.join(actor, modChannel.name);
      return { id: modChannel.name, ...snapshot };
    },
  };
}
