// Matrix room events as the domain understands them: the Matrix side parses raw events into
// these, for live transactions and for history pages alike.
import type { MemberContent, MessageContent, Profile } from "../protocol/events.ts";
import type { MatrixEventId, RoomId, UserId } from "../protocol/ids.ts";
import type { MemberRow } from "./ports/store.ts";

interface RoomEventBase {
  readonly roomId: RoomId;
  readonly matrixEventId: MatrixEventId;
  readonly sender: UserId;
  readonly ts: number;
  /** Set on events Parley's outbox posted: which entry this is the echo of. */
  readonly marker: string | null;
}

export interface MemberEvent extends RoomEventBase {
  readonly target: UserId;
  readonly membership: MemberRow["membership"] | "knock";
  readonly displayName: string | null;
  readonly avatarUrl: string | null;
  readonly reason: string | null;
  /** An invitation to a direct conversation (`is_direct`). */
  readonly isDirect?: boolean;
  /** From an invitation's view of the room: it is end-to-end encrypted; who created it. */
  readonly encrypted?: boolean;
  readonly roomCreator?: UserId;
}

export interface MessageEvent extends RoomEventBase {
  readonly content: Exclude<MessageContent, { type: "deleted" }>;
  readonly replyTo: MatrixEventId | null;
  /** Set on an edit (m.replace): the message it edits; `content` is the new content. */
  readonly replaces: MatrixEventId | null;
  readonly mentions: readonly UserId[];
}

export interface RedactionEvent extends RoomEventBase {
  readonly redacts: MatrixEventId;
  readonly reason: string | null;
}

export interface ReactionEvent extends RoomEventBase {
  readonly target: MatrixEventId;
  readonly key: string;
}

export type RoomEventInput =
  | { readonly kind: "member"; readonly event: MemberEvent }
  | { readonly kind: "message"; readonly event: MessageEvent }
  | { readonly kind: "redaction"; readonly event: RedactionEvent }
  | { readonly kind: "reaction"; readonly event: ReactionEvent }
  | { readonly kind: "power_levels"; readonly roomId: RoomId; readonly content: unknown }
  | {
      readonly kind: "room_profile";
      readonly roomId: RoomId;
      readonly sender: UserId;
      /** m.room.topic, m.room.name or m.room.avatar (an mxc URI); null when cleared. */
      readonly field: "topic" | "name" | "avatar";
      readonly value: string | null;
    }
  | { readonly kind: "alias"; readonly roomId: RoomId; readonly alias: string }
  | { readonly kind: "join_rule"; readonly roomId: RoomId; readonly joinRule: string };

export type ParsedRoomEvent = RoomEventInput | { readonly kind: "skip"; readonly why: string };

/** Memberships that are shown as `channel.member` events. */
export const isShownMembership = (
  membership: MemberEvent["membership"],
): membership is MemberContent["membership"] =>
  membership === "join" || membership === "leave" || membership === "ban";

export function memberContent(event: MemberEvent, profile: Profile): MemberContent {
  const byOther = event.sender !== event.target;
  return {
    membership: event.membership as MemberContent["membership"],
    user: { id: event.target, profile },
    ...(byOther ? { by: event.sender } : {}),
    ...(byOther && event.reason !== null ? { reason: event.reason } : {}),
  };
}
