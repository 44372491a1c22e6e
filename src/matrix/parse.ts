// Raw Matrix room events -> the domain's RoomEventInput. Pure; used for transactions and for
// history pages from /messages alike.
import type { ParsedRoomEvent } from "../domain/room-events.ts";
import { asMatrixEventId, asRoomId, asUserId } from "../protocol/ids.ts";
import {
  canonicalAliasContentSchema,
  joinRulesContentSchema,
  memberContentSchema,
  messageContentSchema,
  roomEventSchema,
} from "./event-schemas.ts";

const MSGTYPES = { "m.text": "text", "m.emote": "emote", "m.notice": "notice" } as const;
const isTextual = (msgtype: string): msgtype is keyof typeof MSGTYPES => Object.hasOwn(MSGTYPES, msgtype);

const skipped = (why: string): ParsedRoomEvent => ({ kind: "skip", why });

export function parseRoomEvent(raw: unknown): ParsedRoomEvent {
  const parsed = roomEventSchema.safeParse(raw);
  if (!parsed.success) return skipped("not a room event we can read");
  const event = parsed.data;
  const base = {
    roomId: asRoomId(event.room_id),
    matrixEventId: asMatrixEventId(event.event_id),
    sender: asUserId(event.sender),
    ts: event.origin_server_ts,
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
        },
      };
    }
    case "m.room.message": {
      const content = messageContentSchema.safeParse(event.content);
      if (!content.success) return skipped("malformed or redacted message");
      if (content.data["m.relates_to"]?.rel_type === "m.replace") return skipped("edits are not bridged yet");
      if (!isTextual(content.data.msgtype))
        return skipped(`msgtype ${content.data.msgtype} is not bridged yet`);
      return {
        kind: "message",
        event: { ...base, type: MSGTYPES[content.data.msgtype], body: content.data.body },
      };
    }
    case "m.room.canonical_alias": {
      const content = canonicalAliasContentSchema.safeParse(event.content);
      if (!content.success || !content.data.alias) return skipped("no canonical alias");
      return { kind: "alias", roomId: base.roomId, alias: content.data.alias };
    }
    case "m.room.join_rules": {
      const content = joinRulesContentSchema.safeParse(event.content);
      if (!content.success || event.state_key !== "") return skipped("malformed join rules");
      return { kind: "join_rule", roomId: base.roomId, joinRule: content.data.join_rule };
    }
    default:
      return skipped(`event type ${event.type} is not bridged`);
  }
}
