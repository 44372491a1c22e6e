// Native users joining and leaving channels: logged at once, then mirrored to Matrix by the
// outbox as the user's puppet (registered and named just before it first acts).
import { ProtocolError } from "../protocol/errors.ts";
import type { ChannelSnapshot, MemberList, MemberView, UserView } from "../protocol/events.ts";
import type { ChannelName, UserId } from "../protocol/ids.ts";
import { dict } from "../shared/dict.ts";
import type { Activity } from "./activity.ts";
import type { Actor } from "./actor.ts";
import type { Channels } from "./channels.ts";
import type { EventLog } from "./event-log.ts";
import type { Gatekeeper } from "./moderation/gatekeeper.ts";
import type { Roles } from "./moderation/roles.ts";
import type { NewMirror } from "./outbox.ts";
import { UpstreamUnavailableError } from "./ports/matrix.ts";
import {
  refundForActor,
  type SharedRateLimiter,
  takeForActor,
  type UserAndAddressRule,
} from "./ports/rate-limit.ts";
import type { ChannelRow, NativeUserRow, Store } from "./ports/store.ts";
import { nativeView, type Users } from "./users.ts";

export type { ChannelSnapshot, MemberList, MemberView };

/** The most recently seen users `chat.members` lists; older ones are left out. */
export const SEEN_LIMIT = 1000;

export interface Membership {
  /** Throws what join would refuse the actor for before touching any channel (no display name). */
  checkJoiner(actor: Actor): Promise<NativeUserRow>;
  /** `limited: false` for joins that are part of another limited action (a new direct channel). */
  join(
    actor: Actor,
    channel: ChannelName,
    options?: { readonly limited?: boolean },
  ): Promise<ChannelSnapshot>;
  leave(userId: UserId, channel: ChannelName): Promise<void>;
  /**
   * Creates the channel if needed; for subscribers, who need no membership. `onAdmitted` runs once
   * the actor may enter and before the snapshot is read: a subscription made there misses no event
   * after the snapshot's next_event_id.
   */
  open(actor: Actor, channel: ChannelName, onAdmitted?: () => void): Promise<ChannelSnapshot>;
  isJoined(userId: UserId, channel: ChannelRow): Promise<boolean>;
  members(channel: ChannelRow): Promise<MemberView[]>;
  /** Members now, those of them online, and everyone seen in the channel with when. */
  list(actor: Actor, channel: ChannelName): Promise<MemberList>;
  /**
   * Puts another native user into a channel (a direct channel someone opened with them, the
   * server API); `channel.banned` if they are banned from it.
   */
  addMember(channel: ChannelRow, userId: UserId): Promise<void>;
  find(channel: ChannelName): Promise<ChannelRow | undefined>;
}

export interface MembershipDeps {
  readonly store: Store;
  readonly channels: Channels;
  readonly users: Users;
  readonly eventLog: EventLog;
  readonly activity: Activity;
  readonly roles: Roles;
  readonly gatekeeper: Gatekeeper;
  /** Joins that change membership (each one a Matrix membership event) count against this. */
  readonly joinRate: { readonly limiter: SharedRateLimiter; readonly rules: UserAndAddressRule };
  /** Told each snapshot's next_event_id: where this node's pushes of the channel must start. */
  readonly follow?: (channel: ChannelRow, nextSeq: number) => void;
}

/** Thrown inside the log's transaction when a concurrent request already made the change. */
class NothingToDo extends Error {}

export function createMembership(deps: MembershipDeps): Membership {
  const { store, channels, users, eventLog, activity, roles, gatekeeper, joinRate } = deps;
  const members = async (channel: ChannelRow): Promise<MemberView[]> => {
    const joined = await store.joinedMembers(channel.id);
    // One query for the native ones among them, not one per member.
    const natives = await store.nativeUsers(joined.map((member) => member.userId));
    return joined.map((member) => {
      const nativeUser = natives.get(member.userId);
      const view: UserView = nativeUser
        ? nativeView(nativeUser)
        : { id: member.userId, profile: { display_name: member.displayName, avatar_url: member.avatarUrl } };
      return { ...view, role: roles.role(channel, member.userId) };
    });
  };

  const snapshot = async (channel: ChannelRow, actor: Actor): Promise<ChannelSnapshot> => {
    const nextEventId = await store.nextSeq(channel.id);
    // Pushes here continue from what the snapshot says, even if this node met no event of it yet.
    deps.follow?.(channel, nextEventId);
    return {
      state: { ...channels.state(channel), ...(await gatekeeper.describe(channel, actor)) },
      next_event_id: nextEventId,
      members: await members(channel),
    };
  };

  const isJoined = async (userId: UserId, channel: ChannelRow) =>
    (await store.member(channel.id, userId))?.membership === "join";

  /** Logs a native user's own join or leave, and queues it for the room. */
  const recordOwn = async (
    channel: ChannelRow,
    userId: UserId,
    membership: "join" | "leave",
    profile: UserView["profile"],
  ) => {
    const now = Date.now();
    const mirror: NewMirror =
      membership === "join"
        ? // Invite-only rooms (direct and moderators' channels) need the bot's invitation first.
          { kind: "join", actor: userId, payload: { profile, invite: channel.joinRule !== "public" } }
        : { kind: "leave", actor: userId, payload: { profile } };
    try {
      await eventLog.recordNative({
        channel,
        sender: userId,
        ts: now,
        entry: { eventType: "channel.member", content: { membership, user: { id: userId, profile } } },
        memberChange: { channelId: channel.id, userId, membership, profile, at: now },
        mirror,
        // Looked at again with the channel's log held: two joins at once (two connections, two
        // nodes) log one.
        apply: async () => {
          const joined = (await store.member(channel.id, userId))?.membership === "join";
          if (joined === (membership === "join")) throw new NothingToDo();
        },
      });
    } catch (error) {
      if (!(error instanceof NothingToDo)) throw error;
    }
  };

  const checkJoiner = async (actor: Actor): Promise<NativeUserRow> => {
    const user = await users.native(actor.userId);
    if (!user) throw new Error(`join by unknown native user ${actor.userId}`);
    if (!user.displayName) throw new ProtocolError("channel.join.missing_profile");
    return user;
  };

  return {
    checkJoiner,
    members,
    isJoined,
    find: (name) => channels.find(name),
    async list(actor, name) {
      const channel = await channels.get(name, actor);
      await activity.flush();
      const now = Date.now();
      const current = await members(channel);
      const onlineNow = await activity.onlineAmong(
        current.map((m) => m.id),
        now,
      );
      const online = current.filter((m) => onlineNow.has(m.id)).map((m) => m.id);
      const karma = dict<number>();
      if (roles.canModerate(channel, actor.userId, actor.admin)) {
        for (const member of current) {
          const value = await store.karma(member.id);
          if (value !== 0) karma[member.id] = value;
        }
      }
      // When each joined: their membership's last change is their join.
      const joinedAt = new Map(
        (await store.joinedMembers(channel.id)).map((row) => [row.userId, row.updatedAt]),
      );
      return {
        ...(roles.canModerate(channel, actor.userId, actor.admin) ? { karma } : {}),
        members: current.map((member) => ({ ...member, joined_at: joinedAt.get(member.id) ?? now })),
        online,
        seen: (await store.seenMembers(channel.id, SEEN_LIMIT)).map((m) => ({
          id: m.userId,
          last_seen: onlineNow.has(m.userId) ? now : (m.lastSeen ?? m.updatedAt),
        })),
      };
    },
    async addMember(channel, userId) {
      // Banned is banned whoever adds them: the room would refuse the join, and the log would
      // say they are in.
      if ((await store.member(channel.id, userId))?.membership === "ban")
        throw new ProtocolError("channel.banned");
      const user = await users.ensureNative(userId);
      if (await isJoined(userId, channel)) return;
      await recordOwn(channel, userId, "join", {
        display_name: user.displayName,
        avatar_url: user.avatarUrl,
      });
    },
    async open(actor, name, onAdmitted) {
      const channel = await channels.ensure(name, actor);
      await gatekeeper.checkEnter(channel, actor);
      onAdmitted?.();
      return snapshot(channel, actor);
    },
    async join(actor, name, options = {}) {
      const userId = actor.userId;
      const user = await checkJoiner(actor);
      const known = await channels.find(name);
      // The join limit is taken before the channel may be created, so a refused join creates
      // nothing; it is given back if nothing is to be done after all.
      const limited = options.limited !== false && !(known && (await isJoined(userId, known)));
      if (limited)
        await takeForActor(
          joinRate.limiter,
          "joins",
          actor,
          joinRate.rules,
          "You are joining channels too fast.",
        );
      try {
        const { channel } = await channels.ensurePublic(name, actor);
        await gatekeeper.checkEnter(channel, actor);
        if (!(await isJoined(userId, channel))) {
          await recordOwn(channel, userId, "join", {
            display_name: user.displayName,
            avatar_url: user.avatarUrl,
          });
        } else if (limited) await refundForActor(joinRate.limiter, "joins", actor, joinRate.rules);
        return await snapshot((await store.channelById(channel.id)) ?? channel, actor);
      } catch (error) {
        if (limited && !(error instanceof UpstreamUnavailableError)) {
          await refundForActor(joinRate.limiter, "joins", actor, joinRate.rules);
        }
        throw error;
      }
    },
    async leave(userId, name) {
      const channel = await channels.find(name);
      if (!channel || !(await isJoined(userId, channel))) return; // leaving is idempotent
      const user = await users.native(userId);
      const profile = user ? nativeView(user).profile : { display_name: null, avatar_url: null };
      await recordOwn(channel, userId, "leave", profile);
    },
  };
}
