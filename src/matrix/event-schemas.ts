// The Matrix events Parley reads, validated: anything else in a transaction is recorded and skipped.
import { z } from "zod";

export const roomEventSchema = z.object({
  event_id: z.string().min(1),
  room_id: z.string().min(1),
  sender: z.string().min(1),
  type: z.string().min(1),
  origin_server_ts: z.number(),
  content: z.record(z.string(), z.unknown()),
  state_key: z.string().optional(),
  unsigned: z
    .object({
      // What an invitation shows of the room (stripped state): its creator, whether it is encrypted.
      invite_room_state: z
        .array(z.object({ type: z.string(), sender: z.string().optional() }).loose())
        .optional(),
    })
    .loose()
    .optional(),
});
export type RoomEvent = z.infer<typeof roomEventSchema>;

export const memberContentSchema = z.object({
  membership: z.enum(["join", "leave", "ban", "invite", "knock"]),
  displayname: z.string().nullish(),
  avatar_url: z.string().nullish(),
  reason: z.string().optional(),
  is_direct: z.boolean().optional(),
});

const relatesToSchema = z
  .object({
    rel_type: z.string().optional(),
    event_id: z.string().optional(),
    key: z.string().optional(),
    "m.in_reply_to": z.object({ event_id: z.string() }).loose().optional(),
  })
  .loose();

/** An attachment as encrypted rooms carry it: its URL, and the AES-256-CTR key and iv. */
const encryptedFileSchema = z
  .object({
    url: z.string(),
    key: z.object({ k: z.string() }).loose().optional(),
    iv: z.string().optional(),
  })
  .loose();

export const messageContentSchema = z
  .object({
    msgtype: z.string(),
    body: z.string(),
    format: z.string().optional(),
    formatted_body: z.string().optional(),
    url: z.string().optional(),
    // Encrypted-style attachments name their URL here (some clients send them in clear rooms too).
    file: encryptedFileSchema.optional(),
    filename: z.string().optional(),
    info: z
      .object({
        mimetype: z.string().optional(),
        size: z.number().int().min(0).optional(),
        w: z.number().int().min(1).optional(),
        h: z.number().int().min(1).optional(),
        thumbnail_url: z.string().optional(),
        thumbnail_file: encryptedFileSchema.optional(),
        thumbnail_info: z.object({ mimetype: z.string().optional() }).loose().optional(),
      })
      .loose()
      .optional(),
    "m.relates_to": relatesToSchema.optional(),
    "m.mentions": z
      .object({ user_ids: z.array(z.string()).optional() })
      .loose()
      .optional(),
    "m.new_content": z.record(z.string(), z.unknown()).optional(),
  })
  .loose();

export const reactionContentSchema = z.object({
  "m.relates_to": z
    .object({ rel_type: z.literal("m.annotation"), event_id: z.string(), key: z.string().min(1) })
    .loose(),
});

/** Room v11 puts `redacts` at the top level and in the content; older versions only at the top. */
export const redactionSchema = z
  .object({
    redacts: z.string().optional(),
    content: z.object({ redacts: z.string().optional(), reason: z.string().optional() }).loose(),
  })
  .loose();

export const canonicalAliasContentSchema = z.object({
  alias: z.string().nullish(),
  alt_aliases: z.array(z.string()).optional(),
});

/** The parts every transaction event must have for us to record it at all. */
export const transactionEventSchema = z
  .object({ event_id: z.string().min(1), room_id: z.string().min(1) })
  .loose();

export const joinRulesContentSchema = z.object({ join_rule: z.string().min(1) });

/** Typing, receipts and presence: we only read who they are about. */
export const ephemeralSchema = z.object({
  type: z.string(),
  room_id: z.string().optional(),
  content: z.record(z.string(), z.unknown()).optional(),
  sender: z.string().optional(),
});
