// Typing, receipts and presence (EDUs): not stored by Synapse, lost while we are down, so best
// effort by nature. Today they only tell us which Matrix users are active.
import { asRoomId, asUserId, type RoomId, type UserId } from "../protocol/ids.ts";
import { ephemeralSchema } from "./event-schemas.ts";

const isUserId = (value: unknown): value is string => typeof value === "string" && value.startsWith("@");

/** The room and full typer list of an m.typing EDU, or undefined for anything else. */
export function typingOf(raw: unknown): { roomId: RoomId; userIds: UserId[] } | undefined {
  const parsed = ephemeralSchema.safeParse(raw);
  if (!parsed.success || parsed.data.type !== "m.typing" || parsed.data.room_id === undefined)
    return undefined;
  const ids = parsed.data.content?.user_ids;
  return {
    roomId: asRoomId(parsed.data.room_id),
    userIds: Array.isArray(ids) ? ids.filter(isUserId).map(asUserId) : [],
  };
}

export function activeUsersOf(raw: unknown): UserId[] {
  const parsed = ephemeralSchema.safeParse(raw);
  if (!parsed.success) return [];
  const { type, content, sender } = parsed.data;
  switch (type) {
    case "m.typing": {
      const ids = content?.user_ids;
      return Array.isArray(ids) ? ids.filter(isUserId).map(asUserId) : [];
    }
    case "m.receipt": {
      // {eventId: {"m.read": {userId: {ts}}}}; private receipts (m.read.private) are ignored.
      const users = new Set<UserId>();
      for (const byType of Object.values(content ?? {})) {
        const readers = (byType as Record<string, unknown> | null)?.["m.read"];
        if (readers && typeof readers === "object")
          for (const id of Object.keys(readers)) if (isUserId(id)) users.add(asUserId(id));
      }
      return [...users];
    }
    case "m.presence":
      return isUserId(sender) && content?.presence === "online" ? [asUserId(sender)] : [];
    default:
      return [];
  }
}

/** A Matrix user's presence in an m.presence EDU, or undefined. */
export function presenceOf(raw: unknown): { userId: UserId; presence: string } | undefined {
  const parsed = ephemeralSchema.safeParse(raw);
  if (!parsed.success || parsed.data.type !== "m.presence") return undefined;
  const { content, sender } = parsed.data;
  const presence = content?.presence;
  return isUserId(sender) && typeof presence === "string"
    ? { userId: asUserId(sender), presence }
    : undefined;
}
