// One payload schema per action, compiled once. The schema is the type: handlers get z.infer of it.
import { z } from "zod";
import { CHANNEL_NAME_PATTERN, type ChannelName, type UserId } from "./ids.ts";

export const channelNameSchema = z
  .string()
  .regex(CHANNEL_NAME_PATTERN, "a channel name is 1-64 of A-Z a-z 0-9 . _ = -")
  .transform((value) => value as ChannelName);

export const userIdSchema = z
  .string()
  .regex(/^@[^:\s]+:\S+$/, "a user id looks like @name:server")
  .max(255)
  .transform((value) => value as UserId);

export const MAX_BODY_LENGTH = 16_000;

const eventIdSchema = z.number().int().safe();

export const channelPayload = z.object({ channel: channelNameSchema });

export const sendPayload = z.object({
  channel: channelNameSchema,
  event_type: z.string().min(1).max(64),
  content: z.object({ type: z.string().min(1).max(64) }).loose(),
  txn_id: z.string().min(1).max(64).optional(),
  reply_to: eventIdSchema.optional(),
  replaces: eventIdSchema.optional(),
  /** Only these users (and moderators) receive it; it is not posted to Matrix. */
  to: z.array(userIdSchema).min(1).max(50).optional(),
});

export const profileSchema = z.object({
  display_name: z.string().trim().min(1).max(100),
  avatar_url: z
    .string()
    .regex(/^mxc:\/\/[^/\s]+\/[^/\s]+$/, "an avatar is an mxc:// URL")
    .nullable()
    .optional(),
});

export const userUpdatePayload = z.object({ profile: profileSchema });

export const userFetchPayload = z.union([
  z.object({ id: userIdSchema }),
  z.object({ ids: z.array(userIdSchema).min(1).max(100) }),
]);

/** Opt-in: this connection takes join/leave events of big channels batched (`chat.events`). */
const batchOption = { batch_member_events: z.boolean().optional() };

export const authenticatePayload = z.union([
  z.object({ token: z.string().min(1).max(8192), ...batchOption }),
  z.object({ client_id: z.string().min(8).max(128), ...batchOption }),
]);

/** Field paths of a failed parse, e.g. ["channel", "content.body"], for `protocol.invalid_payload`. */
export function failingFields(error: z.ZodError): string[] {
  const fields = new Set<string>();
  for (const issue of error.issues) {
    const path = issue.path.map(String).join(".");
    fields.add(path === "" ? "(payload)" : path);
    if (issue.code === "invalid_union") {
      for (const branch of issue.errors) {
        for (const inner of branch) fields.add([...issue.path, ...inner.path].map(String).join("."));
      }
    }
  }
  return [...fields].filter((field) => field !== "");
}

export const fetchPayload = z.object({
  channel: channelNameSchema,
  count: z.number().int().min(1).max(200).default(50),
  before_id: eventIdSchema.optional(),
  after_id: eventIdSchema.optional(),
});

export const markReadPayload = z.object({ channel: channelNameSchema, id: eventIdSchema });

export const reactPayload = z.object({
  channel: channelNameSchema,
  event: eventIdSchema,
  reaction: z.string().min(1).max(64),
  delete: z.boolean().optional(),
});

export const typingPayload = z.object({ channel: channelNameSchema, typing: z.boolean() });

export const mediaPayload = z.object({
  channel: channelNameSchema,
  before_id: eventIdSchema.optional(),
  count: z.number().int().min(1).max(100).default(30),
});

const reasonSchema = z.string().max(500).optional();

export const moderatePayload = z.object({
  channel: channelNameSchema,
  user: userIdSchema,
  reason: reasonSchema,
});

export const timeoutPayload = z.object({
  channel: channelNameSchema,
  user: userIdSchema,
  /** Seconds, 120 up to 7 days; omitted: until a moderator lifts it. */
  duration: z.number().int().min(120).max(604_800).optional(),
  reason: reasonSchema,
});

export const untimeoutPayload = z.object({ channel: channelNameSchema, user: userIdSchema });

export const setRolePayload = z.union([
  z.object({ channel: channelNameSchema, user: userIdSchema, role: z.enum(["owner", "moderator", "user"]) }),
  z.object({ all_channels: z.literal(true), user: userIdSchema, role: z.enum(["moderator", "user"]) }),
]);

export const settingsPayload = z.object({
  channel: channelNameSchema,
  slow_mode: z.number().int().min(0).max(3600).optional(),
  rules: z.string().max(10_000).nullable().optional(),
  rules_required: z.boolean().optional(),
  guests: z.boolean().optional(),
  required_claim: z
    .object({
      name: z.string().min(1).max(64),
      value: z.union([z.string().max(256), z.number(), z.boolean()]),
    })
    .nullable()
    .optional(),
  media_review: z.enum(["off", "before"]).optional(),
  /** A live event is on (seed 003): owners and moderators mark it; shown in the directory. */
  live: z.boolean().optional(),
});

export const mediaMarkPayload = z.object({
  channel: channelNameSchema,
  event: eventIdSchema,
  nsfw: z.boolean(),
});

export const audiencePayload = z.object({
  channel: channelNameSchema,
  user: userIdSchema,
  audience: z.enum(["vip", "quiet"]).nullable(),
});

export const userIdPayload = z.object({ id: userIdSchema });

export const directCreatePayload = z.object({
  users: z.array(userIdSchema).max(19),
  hide: z.boolean().optional(),
});

const webhookIdSchema = z.string().regex(/^[0-9a-f]{12}$/, "a webhook id is 12 hex digits");

export const webhookCreatePayload = z.object({
  channel: channelNameSchema,
  // Not trimmed here (the OpenAPI document describes what is sent): the domain trims it.
  name: z.string().min(1).max(100).regex(/\S/, "not only spaces"),
  avatar_url: z
    .string()
    .regex(/^mxc:\/\/[^/\s]+\/[^/\s]+$/, "an avatar is an mxc:// URL")
    .optional(),
});

export const webhookDeletePayload = z.object({ channel: channelNameSchema, id: webhookIdSchema });

export const presencePayload = z.object({ status: z.enum(["online", "away", "dnd", "invisible"]) });

export const directoryPayload = z.object({
  search: z.string().max(100).optional(),
  count: z.number().int().min(1).max(100).default(50),
  cursor: z.string().min(1).max(1024).optional(),
});

export const userSearchPayload = z.object({
  search_term: z.string().trim().min(1).max(100),
  /** From 1; 20 users a page. */
  page: z.number().int().min(1).max(1000).default(1),
});

export const subscribePayload = z.object({
  channel: channelNameSchema,
  /** Also take `chat.presence` pushes for the channel's members. */
  presence: z.boolean().optional(),
});
