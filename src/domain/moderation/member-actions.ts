// Kicks, bans and unbans done natively (by moderators, admins, or a join policy): they hold in
// Parley at once (logged as channel.member with `by`, the removed user's subscriptions end) and
// reach the room through the outbox, as the moderator's puppet or, for admins without the power
// there, as the bridge bot with a reason saying who it was for.
import type { Profile } from "../../protocol/events.ts";
import type { UserId } from "../../protocol/ids.ts";
import type { EventLog } from "../event-log.ts";
import type { Naming } from "../naming.ts";
import type { ChannelRow, Store } from "../ports/store.ts";

export interface MemberAction {
  readonly target: UserId;
  readonly membership: "leave" | "ban";
  /** The native user who did it, or the bridge bot (a join policy). */
  readonly by: UserId;
  /** Who acts on Matrix: the moderator's puppet, or the bot (null). */
  readonly matrixActor: UserId | null;
  readonly reason?: string | undefined;
}

export interface MemberActions {
  apply(channel: ChannelRow, action: MemberAction): Promise<void>;
}

export function createMemberActions(deps: {
  store: Store;
  eventLog: EventLog;
  naming: Naming;
}): MemberActions {
  const { store, eventLog, naming } = deps;
  const profileOf = async (channel: ChannelRow, userId: UserId): Promise<Profile> => {
    const native = await store.nativeUser(userId);
    if (native) return { display_name: native.displayName, avatar_url: native.avatarUrl };
    const known = await store.member(channel.id, userId);
    return { display_name: known?.displayName ?? null, avatar_url: known?.avatarUrl ?? null };
  };
  return {
    async apply(channel, action) {
      const { target, membership, by, matrixActor, reason } = action;
      const profile = await profileOf(channel, target);
      const previous = (await store.member(channel.id, target))?.membership ?? null;
      // Through the bot, Element would show the bot: say who it was for.
      const matrixReason =
        matrixActor === null && by !== naming.botUserId
          ? [reason, `by ${by}`].filter(Boolean).join(" ")
          : reason;
      const now = Date.now();
      await eventLog.recordNative({
        channel,
        sender: by,
        ts: now,
        entry: {
          eventType: "channel.member",
          content: { membership, user: { id: target, profile }, by, ...(reason ? { reason } : {}) },
        },
        memberChange: { channelId: channel.id, userId: target, membership, profile, at: now },
        mirror: {
          kind: "membership",
          actor: matrixActor,
          payload: { target, membership, reason: matrixReason, by, previous, profile },
        },
      });
    },
  };
}
