// Native users joining and leaving channels: puppet membership on Matrix, then the log.
import { ProtocolError } from "../protocol/errors.ts";
import type { UserView } from "../protocol/events.ts";
import type { ChannelName, UserId } from "../protocol/ids.ts";
import type { Activity } from "./activity.ts";
import type { ChannelState, Channels } from "./channels.ts";
import type { EventLog } from "./event-log.ts";
import type { MatrixPort } from "./matrix-port.ts";
import type { ChannelRow, Store } from "./store-port.ts";
import { nativeView, type Users } from "./users.ts";

export interface ChannelSnapshot {
  readonly state: ChannelState;
  readonly next_event_id: number;
  readonly members: UserView[];
}

export interface MemberList {
  readonly members: UserView[];
  readonly online: UserId[];
  readonly seen: Array<{ id: UserId; last_seen: number }>;
}

/** The most recently seen users `chat.members` lists; older ones are left out. */
export const SEEN_LIMIT = 1000;

export interface Membership {
  join(userId: UserId, channel: ChannelName): Promise<ChannelSnapshot>;
  leave(userId: UserId, channel: ChannelName): Promise<void>;
  /** Creates the channel if needed; for subscribers, who need no membership. */
  open(channel: ChannelName): Promise<ChannelSnapshot>;
  isJoined(userId: UserId, channel: ChannelRow): boolean;
  members(channel: ChannelRow): UserView[];
  joinedChannels(userId: UserId): ChannelName[];
  /** Members now, those of them online, and everyone seen in the channel with when. */
  list(channel: ChannelName): MemberList;
  find(channel: ChannelName): ChannelRow | undefined;
}

export function createMembership(
  store: Store,
  matrix: MatrixPort,
  channels: Channels,
  users: Users,
  log: EventLog,
  activity: Activity,
): Membership {
  const members = (channel: ChannelRow): UserView[] =>
    store.joinedMembers(channel.id).map((member) => {
      const nativeUser = users.native(member.userId);
      if (nativeUser) return nativeView(nativeUser);
      return {
        id: member.userId,
        profile: { display_name: member.displayName, avatar_url: member.avatarUrl },
      };
    });

  const snapshot = (channel: ChannelRow): ChannelSnapshot => ({
    state: channels.state(channel),
    next_event_id: store.nextSeq(channel.id),
    members: members(channel),
  });

  const isJoined = (userId: UserId, channel: ChannelRow) =>
    store.member(channel.id, userId)?.membership === "join";

  return {
    members,
    isJoined,
    joinedChannels: (userId) => store.channelsJoinedBy(userId).map((channel) => channel.name),
    find: (name) => channels.find(name),
    list(name) {
      const channel = channels.find(name);
      if (!channel) throw new ProtocolError("chat.unknown", `No channel ${name}.`);
      const now = Date.now();
      const current = members(channel);
      const online = current.filter((m) => activity.isOnline(m.id, now)).map((m) => m.id);
      const onlineNow = new Set(online);
      return {
        members: current,
        online,
        seen: store.seenMembers(channel.id, SEEN_LIMIT).map((m) => ({
          id: m.userId,
          last_seen: onlineNow.has(m.userId) ? now : (m.lastSeen ?? m.updatedAt),
        })),
      };
    },
    async open(name) {
      return snapshot(await channels.ensure(name));
    },
    async join(userId, name) {
      const user = users.native(userId);
      if (!user) throw new Error(`join by unknown native user ${userId}`);
      if (!user.displayName) throw new ProtocolError("channel.join.missing_profile");
      const channel = await channels.ensure(name);
      const current = store.member(channel.id, userId)?.membership;
      if (current === "ban") throw new ProtocolError("chat.denied", "You are banned from this channel.");
      if (current !== "join") {
        await users.preparePuppet(user);
        const profile = { display_name: user.displayName, avatar_url: user.avatarUrl };
        const matrixEventId = await matrix.joinRoom(channel.roomId, userId, profile);
        const now = Date.now();
        log.record({
          channel,
          matrixEventId,
          sender: userId,
          ts: now,
          entry: {
            eventType: "channel.member",
            content: { membership: "join", user: { id: userId, profile } },
          },
          memberChange: { channelId: channel.id, userId, membership: "join", profile, at: now },
        });
      }
      return snapshot(channel);
    },
    async leave(userId, name) {
      const channel = channels.find(name);
      if (!channel || !isJoined(userId, channel)) return; // leaving is idempotent
      const user = users.native(userId);
      const profile = user ? nativeView(user).profile : { display_name: null, avatar_url: null };
      const matrixEventId = await matrix.leaveRoom(channel.roomId, userId);
      const now = Date.now();
      log.record({
        channel,
        matrixEventId,
        sender: userId,
        ts: now,
        entry: {
          eventType: "channel.member",
          content: { membership: "leave", user: { id: userId, profile } },
        },
        memberChange: { channelId: channel.id, userId, membership: "leave", profile, at: now },
      });
    },
  };
}
