// Matrix room events -> the domain's inbound calls. Pure mapping; no I/O of its own.
import type { Inbound, Outcome } from "../domain/inbound.ts";
import { asMatrixEventId, asRoomId, asUserId } from "../protocol/ids.ts";
import {
  canonicalAliasContentSchema,
  memberContentSchema,
  messageContentSchema,
  roomEventSchema,
} from "./event-schemas.ts";

const MSGTYPES = { "m.text": "text", "m.emote": "emote", "m.notice": "notice" } as const;
const isTextual = (msgtype: string): msgtype is keyof typeof MSGTYPES => Object.hasOwn(MSGTYPES, msgtype);

const skipped = (why: string): Outcome => ({ outcome: "skipped", why });

export function translateEvent(raw: unknown, inbound: Inbound): Outcome {
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
      return inbound.member({
        ...base,
        target: asUserId(event.state_key),
        membership: content.data.membership,
        displayName: content.data.displayname ?? null,
        avatarUrl: content.data.avatar_url ?? null,
        reason: content.data.reason ?? null,
      });
    }
    case "m.room.message": {
      const content = messageContentSchema.safeParse(event.content);
      if (!content.success) return skipped("malformed or redacted message");
      if (content.data["m.relates_to"]?.rel_type === "m.replace") return skipped("edits are not bridged yet");
      if (!isTextual(content.data.msgtype))
        return skipped(`msgtype ${content.data.msgtype} is not bridged yet`);
      return inbound.message({ ...base, type: MSGTYPES[content.data.msgtype], body: content.data.body });
    }
    case "m.room.canonical_alias": {
      const content = canonicalAliasContentSchema.safeParse(event.content);
      if (!content.success || !content.data.alias) return skipped("no canonical alias");
      return inbound.alias(base.roomId, content.data.alias);
    }
    default:
      return skipped(`event type ${event.type} is not bridged`);
  }
}
