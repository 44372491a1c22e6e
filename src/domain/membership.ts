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
  type RateLimiter,
  refundForActor,
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
  checkJoiner(actor: Actor): NativeUserRow;
  /** `limited: false` for joins that are part of another limited action (a new direct channel). */
  join(
    actor: Actor,
    channel: ChannelName,
    options?: { readonly limited?: boolean },
  ): Promise<ChannelSnapshot>;
  leave(userId: UserId, channel: ChannelName): Promise<void>;
  /** Creates the channel if needed; for subscribers, who need no membership. */
  open(actor: Actor, channel: ChannelName): Promise<ChannelSnapshot>;
  isJoined(userId: UserId, channel: ChannelRow): boolean;
  members(channel: ChannelRow): MemberView[];
  /** Members now, those of them online, and everyone seen in the channel with when. */
  list(actor: Actor, channel: ChannelName): MemberList;
  /** Puts another native user into a channel (a direct channel someone opened with them). */
  addMember(channel: ChannelRow, userId: UserId): void;
  find(channel: ChannelName): ChannelRow | undefined;
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
  readonly joinRate: { readonly limiter: RateLimiter; readonly rules: UserAndAddressRule };
}

export function createMembership(deps: MembershipDeps): Membership {
  const { store, channels, users, eventLog, activity, roles, gatekeeper, joinRate } = deps;
  const members = (channel: ChannelRow): MemberView[] =>
    store.joinedMembers(channel.id).map((member) => {
      const nativeUser = users.native(member.userId);
      const view: UserView = nativeUser
        ? nativeView(nativeUser)
        : { id: member.userId, profile: { display_name: member.displayName, avatar_url: member.avatarUrl } };
      return { ...view, role: roles.role(channel, member.userId) };
    });

  const snapshot = (channel: ChannelRow, actor: Actor): ChannelSnapshot => ({
    state: { ...channels.state(channel), ...gatekeeper.describe(channel, actor) },
    next_event_id: store.nextSeq(channel.id),
    members: members(channel),
  });

  const isJoined = (userId: UserId, channel: ChannelRow) =>
    store.member(channel.id, userId)?.membership === "join";

  /** Logs a native user's own join or leave, and queues it for the room. */
  const recordOwn = (
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
    eventLog.recordNative({
      channel,
      sender: userId,
      ts: now,
      entry: { eventType: "channel.member", content: { membership, user: { id: userId, profile } } },
      memberChange: { channelId: channel.id, userId, membership, profile, at: now },
      mirror,
    });
  };

  const checkJoiner = (actor: Actor): NativeUserRow => {
    const user = users.native(actor.userId);
    if (!user) throw new Error(`join by unknown native user ${actor.userId}`);
    if (!user.displayName) throw new ProtocolError("channel.join.missing_profile");
    return user;
  };

  return {
    checkJoiner,
    members,
    isJoined,
    find: (name) => channels.find(name),
    list(actor, name) {
      const channel = channels.get(name, actor);
      activity.flush();
      const now = Date.now();
      const current = members(channel);
      const online = current.filter((m) => activity.isOnline(m.id, now)).map((m) => m.id);
      const onlineNow = new Set(online);
      const karma = dict<number>();
      if (roles.canModerate(channel, actor.userId, actor.admin)) {
        for (const member of current) {
          const value = store.karma(member.id);
          if (value !== 0) karma[member.id] = value;
        }
      }
      return {
        ...(roles.canModerate(channel, actor.userId, actor.admin) ? { karma } : {}),
        members: current,
        online,
        seen: store.seenMembers(channel.id, SEEN_LIMIT).map((m) => ({
          id: m.userId,
          last_seen: onlineNow.has(m.userId) ? now : (m.lastSeen ?? m.updatedAt),
        })),
      };
    },
    addMember(channel, userId) {
      const user = users.ensureNative(userId);
      if (isJoined(userId, channel)) return;
      recordOwn(channel, userId, "join", { display_name: user.displayName, avatar_url: user.avatarUrl });
    },
    async open(actor, name) {
      const channel = await channels.ensure(name, actor);
      gatekeeper.checkEnter(channel, actor);
      return snapshot(channel, actor);
    },
    async join(actor, name, options = {}) {
      const userId = actor.userId;
      const user = checkJoiner(actor);
      const known = channels.find(name);
      // The join limit is taken before the channel may be created, so a refused join creates
      // nothing; it is given back if nothing is to be done after all.
      const limited = options.limited !== false && !(known && isJoined(userId, known));
      if (limited)
        takeForActor(joinRate.limiter, "joins", actor, joinRate.rules, "You are joining channels too fast.");
      try {
        const { channel } = await channels.ensurePublic(name, actor);
        gatekeeper.checkEnter(channel, actor);
        if (!isJoined(userId, channel)) {
          recordOwn(channel, userId, "join", { display_name: user.displayName, avatar_url: user.avatarUrl });
        } else if (limited) refundForActor(joinRate.limiter, "joins", actor, joinRate.rules);
        return snapshot(store.channelById(channel.id) ?? channel, actor);
      } catch (error) {
        if (limited && !(error instanceof UpstreamUnavailableError)) {
          refundForActor(joinRate.limiter, "joins", actor, joinRate.rules);
        }
        throw error;
      }
    },
    async leave(userId, name) {
      const channel = channels.find(name);
      if (!channel || !isJoined(userId, channel)) return; // leaving is idempotent
      const user = users.native(userId);
      const profile = user ? nativeView(user).profile : { display_name: null, avatar_url: null };
      recordOwn(channel, userId, "leave", profile);
    },
  };
}
