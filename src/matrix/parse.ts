// Raw Matrix room events -> the domain's RoomEventInput. Pure; used for transactions and for
// history pages from /messages alike.
import type { MediaUrls } from "../domain/media-urls.ts";
import type { ParsedRoomEvent } from "../domain/room-events.ts";
import { asMatrixEventId, asRoomId, asUserId } from "../protocol/ids.ts";
import {
  canonicalAliasContentSchema,
  joinRulesContentSchema,
  memberContentSchema,
  messageContentSchema,
  reactionContentSchema,
  redactionSchema,
  roomEventSchema,
} from "./event-schemas.ts";
import { markerOf } from "./markers.ts";
import { messageContentOf } from "./message-parse.ts";

const skipped = (why: string): ParsedRoomEvent => ({ kind: "skip", why });

/** What an invitation's stripped state says of the room: encrypted, and who created it. */
function inviteStateOf(state: ReadonlyArray<{ type: string; sender?: string | undefined }> | undefined) {
  if (!state) return {};
  const creator = state.find((event) => event.type === "m.room.create")?.sender;
  return {
    encrypted: state.some((event) => event.type === "m.room.encryption"),
    ...(creator === undefined ? {} : { roomCreator: asUserId(creator) }),
  };
}

export function parseRoomEvent(raw: unknown, media: MediaUrls): ParsedRoomEvent {
  const parsed = roomEventSchema.safeParse(raw);
  if (!parsed.success) return skipped("not a room event we can read");
  const event = parsed.data;
  const roomId = asRoomId(event.room_id);
  const base = {
    roomId,
    matrixEventId: asMatrixEventId(event.event_id),
    sender: asUserId(event.sender),
    ts: event.origin_server_ts,
    marker: markerOf(raw) ?? null,
  };
  switch (event.type) {
    case "m.room.member": {
      const content = memberContentSchema.safeParse(event.content);
      if (!content.success || event.state_key === undefined) return skipped("malformed member event");
      return {
        kind: "member",
        event: {
          ...base,
          target: asUserId(event.state_key),
          membership: content.data.membership,
          displayName: content.data.displayname ?? null,
          avatarUrl: content.data.avatar_url ?? null,
          reason: content.data.reason ?? null,
          isDirect: content.data.is_direct === true,
          ...inviteStateOf(event.unsigned?.invite_room_state),
        },
      };
    }
    case "m.room.message": {
      const outer = messageContentSchema.safeParse(event.content);
      if (!outer.success) return skipped("malformed or redacted message");
      const relation = outer.data["m.relates_to"];
      const isEdit = relation?.rel_type === "m.replace";
      if (isEdit && relation.event_id === undefined) return skipped("edit without a target");
      // An edit's real content is in m.new_content; the outer body is a "* ..." fallback.
      const inner = isEdit ? messageContentSchema.safeParse(outer.data["m.new_content"]) : outer;
      if (!inner.success) return skipped("edit without readable m.new_content");
      const replyTo = relation?.["m.in_reply_to"]?.event_id;
      const content = messageContentOf(inner.data, media, replyTo !== undefined);
      if (!content) return skipped(`msgtype ${inner.data.msgtype} is not bridged`);
      return {
        kind: "message",
        event: {
          ...base,
          content,
          replyTo: replyTo === undefined ? null : asMatrixEventId(replyTo),
          replaces: isEdit ? asMatrixEventId(relation.event_id as string) : null,
          mentions: (outer.data["m.mentions"]?.user_ids ?? []).map(asUserId),
        },
      };
    }
    case "m.reaction": {
      const content = reactionContentSchema.safeParse(event.content);
      if (!content.success) return skipped("malformed reaction");
      const relation = content.data["m.relates_to"];
      return {
        kind: "reaction",
        event: { ...base, target: asMatrixEventId(relation.event_id), key: relation.key },
      };
    }
    case "m.room.redaction": {
      const redaction = redactionSchema.safeParse(raw);
      const redacts = redaction.success
        ? (redaction.data.redacts ?? redaction.data.content.redacts)
        : undefined;
      if (!redaction.success || redacts === undefined) return skipped("redaction without a target");
      return {
        kind: "redaction",
        event: { ...base, redacts: asMatrixEventId(redacts), reason: redaction.data.content.reason ?? null },
      };
    }
    case "m.room.power_levels":
      return event.state_key === ""
        ? { kind: "power_levels", roomId, content: event.content }
        : skipped("odd power levels");
    case "m.room.topic":
    case "m.room.name":
    case "m.room.avatar": {
      if (event.state_key !== "") return skipped(`odd ${event.type}`);
      const key = event.type === "m.room.topic" ? "topic" : event.type === "m.room.name" ? "name" : "url";
      const value = event.content[key];
      const readable =
        typeof value === "string" &&
        value !== "" &&
        value.length <= 4096 &&
        (key !== "url" || value.startsWith("mxc://"));
      return {
        kind: "room_profile",
        roomId,
        sender: base.sender,
        field: key === "url" ? "avatar" : key,
        value: readable ? value : null,
      };
    }
    case "m.room.canonical_alias": {
      const content = canonicalAliasContentSchema.safeParse(event.content);
      if (!content.success || !content.data.alias) return skipped("no canonical alias");
      return { kind: "alias", roomId, alias: content.data.alias };
    }
    case "m.room.join_rules": {
      const content = joinRulesContentSchema.safeParse(event.content);
      if (!content.success || event.state_key !== "") return skipped("malformed join rules");
      return { kind: "join_rule", roomId, joinRule: content.data.join_rule };
    }
    default:
      return skipped(`event type ${event.type} is not bridged`);
  }
}
