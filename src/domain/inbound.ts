// What happened on Matrix, in protocol terms. The Matrix side parses transaction events and calls
// these; they log, update membership and fan out exactly like native actions do.
import type { MemberContent, Profile } from "../protocol/events.ts";
import type { ChannelName, MatrixEventId, RoomId, UserId } from "../protocol/ids.ts";
import type { Channels } from "./channels.ts";
import type { EventLog } from "./event-log.ts";
import type { Naming } from "./naming.ts";
import type { MemberRow, Store } from "./store-port.ts";
import type { Users } from "./users.ts";

export type Outcome = { readonly outcome: "done" } | { readonly outcome: "skipped"; readonly why: string };

interface RoomEventBase {
  readonly roomId: RoomId;
  readonly matrixEventId: MatrixEventId;
  readonly sender: UserId;
  readonly ts: number;
}

export interface MemberEvent extends RoomEventBase {
  readonly target: UserId;
  readonly membership: MemberRow["membership"] | "knock";
  readonly displayName: string | null;
  readonly avatarUrl: string | null;
  readonly reason: string | null;
}

export interface MessageEvent extends RoomEventBase {
  readonly type: "text" | "emote" | "notice";
  readonly body: string;
}

export interface Inbound {
  member(event: MemberEvent): Outcome;
  message(event: MessageEvent): Outcome;
  /** A room of ours announced an alias in our namespace: remember the channel if we lost it. */
  alias(roomId: RoomId, alias: string): Outcome;
}

const done: Outcome = { outcome: "done" };
const skip = (why: string): Outcome => ({ outcome: "skipped", why });

export function createInbound(
  store: Store,
  channels: Channels,
  users: Users,
  log: EventLog,
  naming: Naming,
): Inbound {
  const profileOf = (event: MemberEvent, known: MemberRow | undefined): Profile => {
    // A native user's profile is ours; Matrix users' comes from their member event, and leave
    // and ban events carry none, so the name they had while in the room is kept.
    const nativeUser = users.native(event.target);
    if (nativeUser) return { display_name: nativeUser.displayName, avatar_url: nativeUser.avatarUrl };
    if (event.membership === "join" || event.displayName !== null) {
      return { display_name: event.displayName, avatar_url: event.avatarUrl };
    }
    return { display_name: known?.displayName ?? null, avatar_url: known?.avatarUrl ?? null };
  };

  return {
    member(event) {
      const channel = store.channelByRoom(event.roomId);
      if (!channel) return skip("room is not a channel");
      if (event.target === naming.botUserId) return skip("the bridge bot is not a member");
      if (event.membership === "knock") return skip("knocks are not shown");
      const known = store.member(channel.id, event.target);
      const previous = known?.membership;
      const profile = profileOf(event, known);
      const memberChange = {
        channelId: channel.id,
        userId: event.target,
        membership: event.membership,
        profile,
        at: event.ts,
      };
      const shown = event.membership === "join" || event.membership === "ban" || event.membership === "leave";
      const changesMembership =
        previous !== event.membership && !(event.membership === "leave" && previous !== "join");
      if (!shown || !changesMembership) {
        // Profile changes, invites, and leaves of non-members only update what we know.
        store.setMember(memberChange);
        return done;
      }
      const content: MemberContent = {
        membership: event.membership as MemberContent["membership"],
        user: { id: event.target, profile },
        ...(event.sender !== event.target ? { by: event.sender } : {}),
        ...(event.reason !== null && event.sender !== event.target ? { reason: event.reason } : {}),
      };
      log.record({
        channel,
        matrixEventId: event.matrixEventId,
        sender: event.sender,
        ts: event.ts,
        entry: { eventType: "channel.member", content },
        memberChange,
      });
      return done;
    },
    message(event) {
      const channel = store.channelByRoom(event.roomId);
      if (!channel) return skip("room is not a channel");
      if (event.sender === naming.botUserId) return skip("bridge bot messages are not shown");
      log.record({
        channel,
        matrixEventId: event.matrixEventId,
        sender: event.sender,
        ts: event.ts,
        entry: { eventType: "channel.message", content: { type: event.type, body: event.body } },
      });
      return done;
    },
    alias(roomId, alias) {
      const name: ChannelName | undefined = naming.channelFromAlias(alias);
      if (!name) return skip("alias outside our namespace");
      if (store.channelByRoom(roomId)) return done;
      if (channels.find(name)) return skip("channel already mapped to another room");
      channels.adopt(name, roomId);
      return done;
    },
  };
}
