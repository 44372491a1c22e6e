// What happened on Matrix, in protocol terms. The Matrix side parses transaction events and hands
// them here; they log, update membership and fan out exactly like native actions do.
import type { MessageContent, Profile } from "../protocol/events.ts";
import type { RoomId, UserId } from "../protocol/ids.ts";
import type { Activity } from "./activity.ts";
import type { Channels } from "./channels.ts";
import type { Direct } from "./direct.ts";
import type { EventLog } from "./event-log.ts";
import { SILENCED_UNTIL } from "./moderation/moderation.ts";
import type { PowerLevelChanges } from "./moderation/power-level-changes.ts";
import { readPowerLevels } from "./moderation/power-levels.ts";
import type { Settings } from "./moderation/settings.ts";
import type { Naming } from "./naming.ts";
import type { Notifications } from "./notifications.ts";
import type { Outbox } from "./outbox.ts";
import type { FanOut } from "./ports/fanout.ts";
import type { ChannelRow, MemberRow, Store } from "./ports/store.ts";
import type { Presence } from "./presence.ts";
import { reactionEntry } from "./reactions.ts";
import {
  isShownMembership,
  type MemberEvent,
  type MessageEvent,
  memberContent,
  type ReactionEvent,
  type RedactionEvent,
  type RoomEventInput,
} from "./room-events.ts";
import type { Typing } from "./typing.ts";
import type { Users } from "./users.ts";

export type Outcome = { readonly outcome: "done" } | { readonly outcome: "skipped"; readonly why: string };

export interface Inbound {
  handle(input: RoomEventInput): Promise<Outcome>;
  /** Typing, receipts, presence: best effort, they only tell us who is active. */
  activeUsers(userIds: readonly UserId[], at: number): void;
  /** The complete list of who is typing in a room (an m.typing EDU). */
  typing(roomId: RoomId, userIds: readonly UserId[]): Promise<void>;
  /** A Matrix user's presence (an m.presence EDU). */
  presence(userId: UserId, presence: string): Promise<void>;
}

const done: Outcome = { outcome: "done" };
const skip = (why: string): Outcome => ({ outcome: "skipped", why });

export interface InboundDeps {
  readonly store: Store;
  readonly channels: Channels;
  readonly users: Users;
  readonly eventLog: EventLog;
  readonly naming: Naming;
  readonly activity: Activity;
  readonly notifications: Notifications;
  readonly typing: Typing;
  readonly settings: Settings;
  readonly powerLevels: PowerLevelChanges;
  /** Recognises the echoes of what the outbox posted: those are in the log already. */
  readonly echoes: Pick<Outbox, "acknowledgeEcho">;
  /** Invitations of native users into Matrix users' rooms (DMs started from Matrix). */
  readonly invitations: Pick<Direct, "invited">;
  readonly presence: Pick<Presence, "fromMatrix">;
  /** Room profile changes (topic, name, avatar) are pushed to the channel's subscribers. */
  readonly fanout: Pick<FanOut, "publish">;
}

/** What `chat.state` pushes and channel snapshots say of the room's profile. */
export const roomProfile = (channel: ChannelRow) => ({
  channel: channel.name,
  topic: channel.topic,
  room_name: channel.roomName ?? null,
  avatar_url: channel.avatarUrl ?? null,
});

export function createInbound(deps: InboundDeps): Inbound {
  const {
    store,
    channels,
    users,
    eventLog,
    naming,
    activity,
    notifications,
    typing,
    settings,
    powerLevels,
    echoes,
    fanout,
    invitations,
    presence,
  } = deps;
  const profileOf = async (event: MemberEvent, known: MemberRow | undefined): Promise<Profile> => {
    // A native user's profile is ours; Matrix users' comes from their member event, and leave
    // and ban events carry none, so the name they had while in the room is kept.
    const nativeUser = await users.native(event.target);
    if (nativeUser) return { display_name: nativeUser.displayName, avatar_url: nativeUser.avatarUrl };
    if (event.membership === "join" || event.displayName !== null) {
      return { display_name: event.displayName, avatar_url: event.avatarUrl };
    }
    return { display_name: known?.displayName ?? null, avatar_url: known?.avatarUrl ?? null };
  };

  const member = async (event: MemberEvent): Promise<Outcome> => {
    const channel = await store.channelByRoom(event.roomId);
    // A Matrix user inviting a native user into a room of theirs: a DM to accept or decline (or,
    // in a direct room a Matrix user started, one more native member).
    const intoDirect = channel !== undefined && (await store.directMembers(channel.id)).length > 0;
    if (
      (!channel || intoDirect) &&
      event.membership === "invite" &&
      naming.isNativeUser(event.target) &&
      !naming.isNativeUser(event.sender) &&
      (await store.member(channel?.id ?? -1, event.target))?.membership !== "join"
    ) {
      await invitations.invited(event);
      if (!channel) return done;
    } else if (!channel && event.membership === "invite" && naming.isNativeUser(event.target)) {
      return skip("a native user's own invitation");
    }
    if (!channel) return skip("room is not a channel");
    if (event.target === naming.botUserId) return skip("the bridge bot is not a member");
    if (event.membership === "knock") return skip("knocks are not shown");
    activity.touch(event.sender, event.ts);
    const known = await store.member(channel.id, event.target);
    const previous = known?.membership;
    const profile = await profileOf(event, known);
    const memberChange = {
      channelId: channel.id,
      userId: event.target,
      membership: event.membership,
      profile,
      at: event.ts,
    };
    // The bot's invitation into an invite-only room reaches Matrix after the native join it is for.
    if (event.membership === "invite" && previous === "join") return skip("invitation of a member");
    const changesMembership =
      previous !== event.membership && !(event.membership === "leave" && previous !== "join");
    if (!isShownMembership(event.membership) || !changesMembership) {
      // Profile changes, invites, and leaves of non-members only update what we know, unless
      // something newer is known already (an invite's echo after the join it led to).
      if (!known || event.ts >= known.updatedAt) await store.setMember(memberChange);
      return done;
    }
    await eventLog.record({
      channel,
      matrixEventId: event.matrixEventId,
      sender: event.sender,
      ts: event.ts,
      entry: { eventType: "channel.member", content: memberContent(event, profile) },
      memberChange,
    });
    return done;
  };

  const message = async (event: MessageEvent): Promise<Outcome> => {
    const channel = await store.channelByRoom(event.roomId);
    if (!channel) return skip("room is not a channel");
    if (event.sender === naming.botUserId) return skip("bridge bot messages are not shown");
    activity.touch(event.sender, event.ts);
    if (
      event.replaces === null &&
      !naming.isNativeUser(event.sender) &&
      !(await store.eventByMatrixId(event.matrixEventId))
    ) {
      // Slow mode binds Matrix users too: a post that came too fast is removed by the bot.
      if (await settings.enforceOnMatrixPost(channel, event.sender, event.ts, event.matrixEventId)) {
        return skip("slow mode: removed");
      }
    }
    const original = event.replaces === null ? undefined : await store.eventByMatrixId(event.replaces);
    if (event.replaces !== null) {
      // Matrix only honours edits by the original sender; so do we, and only of live messages.
      if (
        original?.channelId !== channel.id ||
        original.sender !== event.sender ||
        original.eventType !== "channel.message" ||
        (original.content as MessageContent).type === "deleted"
      ) {
        return skip("edit of an unknown or deleted message, or by someone else");
      }
    }
    // Media review: a Matrix user's files stay in the room (docs/protocol.md) but are held from
    // native clients until a moderator marks them; an edit cannot bring files past review.
    const heldByReview = await settings.holdsMedia(channel, event.sender, event.content);
    if (heldByReview && original && !original.pendingReview) {
      return skip("an edit bringing files into a reviewed channel's shown message");
    }
    const held = original ? original.pendingReview === true : heldByReview;
    const repliedTo = event.replyTo === null ? undefined : await store.eventByMatrixId(event.replyTo);
    const { event: logged, fresh } = await eventLog.record({
      channel,
      matrixEventId: event.matrixEventId,
      sender: event.sender,
      ts: event.ts,
      entry: { eventType: "channel.message", content: event.content },
      replyTo: repliedTo?.channelId === channel.id ? repliedTo.seq : undefined,
      replaces: original?.seq,
      ...(held ? { pendingReview: true } : {}),
      ...(original ? { apply: () => store.replaceContent(channel.id, original.seq, event.content) } : {}),
    });
    if (fresh && !original) await notifications.mentioned(channel, logged, event.mentions);
    return done;
  };

  const reaction = async (event: ReactionEvent): Promise<Outcome> => {
    const target = await store.eventByMatrixId(event.target);
    const channel = await store.channelByRoom(event.roomId);
    if (!channel || !target || target.channelId !== channel.id || target.eventType !== "channel.message") {
      return skip("reaction to something that is not a message of a channel");
    }
    if (target.pendingReview) return skip("reaction to a message held for media review");
    activity.touch(event.sender, event.ts);
    await eventLog.record({
      channel,
      matrixEventId: event.matrixEventId,
      sender: event.sender,
      ts: event.ts,
      entry: reactionEntry(store, channel.id, target.seq),
      apply: async () => {
        await store.addReaction({
          channelId: channel.id,
          targetSeq: target.seq,
          userId: event.sender,
          reaction: event.key,
          matrixEventId: event.matrixEventId,
        });
      },
    });
    return done;
  };

  const redaction = async (event: RedactionEvent): Promise<Outcome> => {
    const channel = await store.channelByRoom(event.roomId);
    if (!channel) return skip("room is not a channel");
    const base = { channel, matrixEventId: event.matrixEventId, sender: event.sender, ts: event.ts };
    const reacted = await store.reactionByMatrixId(event.redacts);
    if (reacted && reacted.channelId === channel.id) {
      await eventLog.record({
        ...base,
        entry: reactionEntry(store, channel.id, reacted.targetSeq),
        apply: async () => {
          await store.removeReaction(channel.id, reacted.targetSeq, reacted.userId, reacted.reaction);
        },
      });
      return done;
    }
    const original = await store.eventByMatrixId(event.redacts);
    if (original?.channelId !== channel.id || original.eventType !== "channel.message") {
      return skip("redaction of something not shown");
    }
    // Synapse enforces this for its own users; a federated server's event is checked here too.
    const levels = readPowerLevels(channel.powerLevels);
    if (original.sender !== event.sender && levels.of(event.sender) < levels.redact) {
      return skip("redaction by someone without the power to redact");
    }
    const deleted = { type: "deleted" } as const;
    await eventLog.record({
      ...base,
      entry: { eventType: "channel.message", content: deleted },
      replaces: original.seq,
      // The delete of a held message is heard only by those who saw it.
      ...(original.pendingReview ? { pendingReview: true } : {}),
      apply: () => store.deleteContent(channel.id, original.seq),
    });
    return done;
  };

  const alias = async (roomId: RoomId, value: string): Promise<Outcome> => {
    const name = naming.channelFromAlias(value);
    if (!name) return skip("alias outside our namespace");
    if (await store.channelByRoom(roomId)) return done;
    if (await channels.find(name)) return skip("channel already mapped to another room");
    await channels.adopt(name, roomId);
    return done;
  };

  return {
    async handle(input) {
      if (
        (input.kind === "member" ||
          input.kind === "message" ||
          input.kind === "reaction" ||
          input.kind === "redaction") &&
        input.event.marker !== null &&
        (await echoes.acknowledgeEcho(input.event.marker, input.event.matrixEventId, input.event.sender))
      ) {
        return skip("the echo of a native action");
      }
      switch (input.kind) {
        case "member":
          return member(input.event);
        case "message":
          return message(input.event);
        case "reaction":
          return reaction(input.event);
        case "redaction":
          return redaction(input.event);
        case "room_profile": {
          const channel = await store.channelByRoom(input.roomId);
          if (!channel) return skip("room is not a channel");
          const { field, value } = input;
          const now =
            field === "topic" ? channel.topic : field === "name" ? channel.roomName : channel.avatarUrl;
          if ((now ?? null) === value) return done;
          if (field === "topic") await store.setTopic(channel.id, value);
          else if (field === "name") await store.setRoomName(channel.id, value);
          else await store.setRoomAvatar(channel.id, value);
          const changed = await store.channelById(channel.id);
          if (changed) {
            // After the commit: a subscriber who reads the state then sees what the push says.
            store.afterCommit(() =>
              fanout.publish(channel.name, ["chat.state", { ...roomProfile(changed), by: input.sender }]),
            );
          }
          return done;
        }
        case "power_levels": {
          const channel = await store.channelByRoom(input.roomId);
          if (!channel) return skip("room is not a channel");
          await powerLevels.fromMatrix(channel.id, input.content);
          // A timeout or mute lifted in Element (the user's level back where they may post) ends
          // in Parley too. Read with native changes still on their way applied: our own -1 that
          // has not reached the room yet is not taken for a lift.
          const levels = readPowerLevels((await store.channelById(channel.id))?.powerLevels ?? input.content);
          for (const row of await store.channelTimeouts(channel.id)) {
            if (row.until === SILENCED_UNTIL) continue;
            if (levels.of(row.userId) < levels.post) continue;
            if (await store.removeTimeout(channel.id, row.userId, row.until)) {
              fanout.publish(channel.name, [
                "chat.moderation",
                { channel: channel.name, action: "untimeout", user: row.userId },
              ]);
            }
          }
          return done;
        }
        case "alias":
          return alias(input.roomId, input.alias);
        case "join_rule": {
          const channel = await store.channelByRoom(input.roomId);
          if (!channel) return skip("room is not a channel");
          await store.setJoinRule(channel.id, input.joinRule);
          return done;
        }
      }
    },
    activeUsers(userIds, at) {
      for (const userId of userIds) activity.touch(userId, at);
    },
    typing: (roomId, userIds) => typing.matrixTyping(roomId, userIds),
    presence: (userId, status) => presence.fromMatrix(userId, status),
  };
}
