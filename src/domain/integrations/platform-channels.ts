// Channels as the platform's backend manages them (server API): create or configure, status,
// directory, members, close. The backend is trusted like a platform admin; what it changes
// reaches Matrix as the bot (topic, join rules, alias) or through the outbox (removals).
import { ProtocolError } from "../../protocol/errors.ts";
import type { ChannelName, UserId } from "../../protocol/ids.ts";
import type { Activity } from "../activity.ts";
import type { Actor } from "../actor.ts";
import { type Channels, isReservedName, unknownChannel } from "../channels.ts";
import type { Membership } from "../membership.ts";
import type { Gatekeeper } from "../moderation/gatekeeper.ts";
import type { MemberActions } from "../moderation/member-actions.ts";
import type { Roles } from "../moderation/roles.ts";
import type { Settings, SettingsRequest } from "../moderation/settings.ts";
import type { Naming } from "../naming.ts";
import type { MatrixPort } from "../ports/matrix.ts";
import type { ChannelRow, Store } from "../ports/store.ts";

export interface ChannelConfiguration {
  readonly topic?: string | null | undefined;
  readonly public?: boolean | undefined;
  readonly settings?: SettingsRequest | undefined;
}

export interface ChannelStatus {
  readonly id: ChannelName;
  readonly room_id: string;
  readonly alias: string;
  readonly topic: string | null;
  readonly public: boolean;
  readonly closed: boolean;
  readonly settings: Awaited<ReturnType<Settings["view"]>>["settings"];
  readonly rules: string | null;
  readonly members: number;
  readonly online: number;
  readonly next_event_id: number;
}

export interface DirectoryEntry {
  readonly id: ChannelName;
  readonly topic: string | null;
  readonly public: boolean;
  readonly members: number;
  readonly online: number;
}

export interface PlatformMember {
  readonly user: UserId;
  readonly role: string;
  readonly joined_at: number;
  readonly online: boolean;
}

export interface PlatformChannels {
  /** Creates the channel (true) or changes it (false). */
  configure(actor: Actor, name: ChannelName, request: ChannelConfiguration): Promise<boolean>;
  status(name: ChannelName): Promise<ChannelStatus>;
  directory(query: {
    search?: string | undefined;
    cursor?: string | undefined;
    count: number;
    includePrivate: boolean;
  }): Promise<{ results: DirectoryEntry[]; next_cursor: string | null }>;
  members(name: ChannelName): Promise<PlatformMember[]>;
  /** Puts a native user who exists into the channel, under the rules a join of theirs would meet. */
  addMember(name: ChannelName, userId: UserId): Promise<void>;
  close(name: ChannelName): Promise<void>;
  /** An open channel (closed ones are `chat.unknown` to everything but status). */
  open(name: ChannelName): Promise<ChannelRow>;
  /** A channel the API may see, closed or not (never a direct or moderators' channel). */
  find(name: ChannelName): Promise<ChannelRow>;
}

export interface PlatformChannelsDeps {
  readonly store: Store;
  readonly channels: Channels;
  readonly settings: Settings;
  readonly matrix: MatrixPort;
  readonly roles: Roles;
  readonly activity: Activity;
  readonly memberActions: MemberActions;
  readonly naming: Naming;
  readonly gatekeeper: Gatekeeper;
  readonly membership: Pick<Membership, "addMember">;
  /** Whether public channels are listed in the room directory (appservice.publish_channels). */
  readonly publish: boolean;
}

export function createPlatformChannels(deps: PlatformChannelsDeps): PlatformChannels {
  const {
    store,
    channels,
    settings,
    matrix,
    roles,
    activity,
    memberActions,
    naming,
    publish,
    gatekeeper,
    membership,
  } = deps;
  // Direct and moderators' channels are private conversations: the platform's API never reaches
  // them (not even an admin key, as a platform admin on the protocol cannot read them either).
  const existing = async (name: ChannelName) => {
    const channel = isReservedName(name) ? undefined : await channels.find(name);
    if (!channel) throw unknownChannel(name);
    return channel;
  };
  const open = async (name: ChannelName) => {
    const channel = await existing(name);
    if (channel.closedAt != null) throw unknownChannel(name);
    return channel;
  };
  const onlineOf = async (userIds: readonly UserId[]) => activity.onlineAmong(userIds);
  return {
    open,
    find: existing,
    async configure(actor, name, request) {
      // Direct and moderators' channels come into being only through their own actions.
      if (isReservedName(name)) {
        throw new ProtocolError("chat.denied", "Direct and moderators' channels cannot be made here.");
      }
      const known = await channels.find(name);
      if (known?.closedAt != null) throw new ProtocolError("chat.denied", `${name} is closed.`);
      const { channel, created } = known
        ? { channel: known, created: false }
        : await channels.ensureNoting(name, request.public === false ? "private" : "public");
      const joinRule = request.public === undefined ? undefined : request.public ? "public" : "invite";
      if (joinRule !== undefined && joinRule !== channel.joinRule) {
        // The outbox reads Parley's copy to know whether a queued join must invite first: it has to
        // say "invite" before the room does, and "public" only once the room is.
        if (joinRule === "invite") {
          await store.setJoinRule(channel.id, joinRule);
          try {
            await matrix.setRoomState(channel.roomId, "m.room.join_rules", { join_rule: joinRule });
          } catch (error) {
            await store.setJoinRule(channel.id, channel.joinRule);
            throw error;
          }
        } else {
          await matrix.setRoomState(channel.roomId, "m.room.join_rules", { join_rule: joinRule });
          await store.setJoinRule(channel.id, joinRule);
        }
        if (publish) await matrix.publishRoom(channel.roomId, joinRule === "public");
      }
      if (request.topic !== undefined && request.topic !== channel.topic) {
        await matrix.setRoomState(channel.roomId, "m.room.topic", { topic: request.topic ?? "" });
        await store.setTopic(channel.id, request.topic);
      }
      if (request.settings && Object.keys(request.settings).length > 0) {
        await settings.update(actor, name, request.settings);
      }
      return created;
    },
    async status(name) {
      const channel = await existing(name);
      const joined = await store.joinedMembers(channel.id);
      const online = await onlineOf(joined.map((m) => m.userId));
      const { rules, settings: view } = await settings.view(channel);
      return {
        id: channel.name,
        room_id: channel.roomId,
        alias: channel.alias,
        topic: channel.topic,
        public: channel.joinRule === "public",
        closed: channel.closedAt != null,
        settings: view,
        rules,
        members: joined.length,
        online: online.size,
        next_event_id: await store.nextSeq(channel.id),
      };
    },
    async directory({ search, cursor, count, includePrivate }) {
      const page = await store.directory({ search, after: cursor, limit: count + 1, includePrivate });
      const shown = page.slice(0, count);
      const results: DirectoryEntry[] = [];
      for (const channel of shown) {
        const joined = await store.joinedMembers(channel.id);
        results.push({
          id: channel.name,
          topic: channel.topic,
          public: channel.joinRule === "public",
          members: joined.length,
          online: (await onlineOf(joined.map((m) => m.userId))).size,
        });
      }
      return { results, next_cursor: page.length > count ? (shown.at(-1)?.name ?? null) : null };
    },
    async members(name) {
      const channel = await open(name);
      const joined = await store.joinedMembers(channel.id);
      const online = await onlineOf(joined.map((m) => m.userId));
      return joined.map((member) => ({
        user: member.userId,
        role: roles.role(channel, member.userId),
        joined_at: member.updatedAt,
        online: online.has(member.userId),
      }));
    },
    async addMember(name, userId) {
      const channel = await open(name);
      const user = await store.nativeUser(userId);
      if (!user) throw new ProtocolError("user.not_found", `No native user ${userId} (they log in first).`);
      await gatekeeper.checkEnter(channel, { userId, admin: false, isGuest: user.isGuest });
      await membership.addMember(channel, userId);
    },
    async close(name) {
      const channel = await open(name);
      // Matrix first: if the homeserver cannot take it now, nothing has changed and a retry works.
      await matrix.setRoomState(channel.roomId, "m.room.join_rules", { join_rule: "invite" });
      await matrix.removeAlias(channel.alias);
      if (publish) await matrix.publishRoom(channel.roomId, false);
      await store.closeChannel(channel.id, Date.now());
      await store.setJoinRule(channel.id, "invite");
      const closed = (await store.channelById(channel.id)) ?? channel;
      for (const member of await store.joinedMembers(channel.id)) {
        if (member.userId === naming.botUserId) continue;
        await memberActions.apply(closed, {
          target: member.userId,
          membership: "leave",
          by: naming.botUserId,
          matrixActor: null,
          reason: "The channel was closed.",
        });
      }
    },
  };
}
