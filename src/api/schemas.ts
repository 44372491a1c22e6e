// The server API's request and answer schemas. Requests reuse the protocol's schemas where the
// API takes the same thing (a message's content, settings, moderation); answers are described
// as clients receive them. Everything here is in the OpenAPI document.
import { z } from "zod";
import { API_SCOPES } from "../domain/integrations/api-keys.ts";
import { MAX_FILES, TEXTUAL_TYPES } from "../domain/message-content.ts";
import {
  channelNameSchema,
  MAX_BODY_LENGTH,
  settingsPayload,
  webhookCreatePayload,
} from "../protocol/schemas.ts";

/** `@name:server`, or a native user's name alone (`alice` for `@chat_alice:server`). */
export const userParam = z
  .string()
  .max(255)
  .regex(/^(@[^:\s]+:\S+|[a-z0-9._=-]{1,64})$/, "a user id (@name:server) or a native user's name")
  .describe(
    "A Matrix user id (`@chat_alice:example.org`, `@carol:example.org`) or a native user's name (`alice`).",
  );

export const channelParams = z.object({ channel: channelNameSchema });
export const memberParams = z.object({ channel: channelNameSchema, user: userParam });
export const nativeMemberParams = z.object({
  channel: channelNameSchema,
  user: z
    .string()
    .regex(/^[a-z0-9._=-]{1,64}$/, "a native user's name")
    .describe("A native user's name (`alice` for `@chat_alice:example.org`)."),
});
export const userParams = z.object({ user: userParam });
export const webhookId = z.string().regex(/^[0-9a-f]{12}$/, "a webhook id is 12 hex digits");
export const webhookParams = z.object({ channel: channelNameSchema, id: webhookId });

// ---- requests

const settingsRequest = settingsPayload.omit({ channel: true }).strict();

export const channelConfigureBody = z
  .object({
    topic: z.string().max(1000).nullable().optional(),
    public: z.boolean().optional(),
    settings: settingsRequest.optional(),
  })
  .strict();

export const directoryQuery = z.object({
  search: z.string().max(100).optional(),
  cursor: channelNameSchema.optional(),
  count: z.coerce.number().int().min(1).max(100).default(50),
});

export const reasonBody = z.object({ reason: z.string().max(500).optional() }).strict();

/** What `parseMessageContent` (src/domain/message-content.ts) takes from a new post. */
const messageContent = z
  .discriminatedUnion("type", [
    z.object({ type: z.enum(TEXTUAL_TYPES), body: z.string().min(1).max(MAX_BODY_LENGTH) }).loose(),
    z
      .object({
        type: z.literal("files"),
        files: z
          .array(
            z.object({
              url: z.string().regex(/^(https?|mxc):\/\/\S+$/),
              name: z.string().min(1).max(255),
              mimeType: z.string().regex(/^[\w.+-]+\/[\w.+-]+$/),
            }),
          )
          .min(1)
          .max(MAX_FILES),
        body: z.string().max(MAX_BODY_LENGTH).optional(),
      })
      .loose(),
  ])
  .describe("As `chat.send`'s content: text, emote, notice or files (docs/protocol.md).");

export const messageBody = z
  .object({
    content: messageContent,
    txn_id: z
      .string()
      .min(1)
      .max(64)
      .optional()
      .describe(
        "A retried post with the same txn_id returns the first one's event instead of posting again.",
      ),
    reply_to: z.number().int().min(1).optional(),
    as: z
      .string()
      .regex(/^[a-z0-9._=-]{1,64}$/, "a native user's name")
      .optional()
      .describe("Post as this native user instead of the key's integration (admin keys only)."),
  })
  .strict();

export const historyQuery = z.object({
  before_id: z.coerce.number().int().min(0).optional(),
  after_id: z.coerce.number().int().min(0).optional(),
  count: z.coerce.number().int().min(1).max(200).default(50),
});

export const moderationBody = z
  .object({
    action: z.enum(["kick", "ban", "unban", "timeout", "untimeout", "set_role"]),
    user: userParam,
    reason: z.string().max(500).optional(),
    duration: z
      .number()
      .int()
      .min(120)
      .max(604_800)
      .optional()
      .describe("Seconds (120 up to 7 days), for `timeout`; omitted: until lifted."),
    role: z.enum(["owner", "moderator", "user"]).optional().describe("For `set_role`."),
  })
  .strict();

export const notifyBody = z.object({ payload: z.record(z.string(), z.unknown()) }).strict();

export const webhookCreateBody = webhookCreatePayload.omit({ channel: true }).strict();

/** What a webhook's URL takes: `text` (or `body`), the message type, a name to show. */
export const webhookPostBody = z
  .object({
    text: z.string().min(1).max(16_000).optional(),
    body: z.string().min(1).max(16_000).optional(),
    msgtype: z.enum(["m.notice", "m.text"]).default("m.notice"),
    username: z.string().min(1).max(100).regex(/\S/, "not only spaces").optional(),
  })
  .loose()
  .refine((post) => post.text !== undefined || post.body !== undefined, {
    message: "`text` (or `body`) is required",
    path: ["text"],
  })
  // The refinement, as the document says it (JSON Schema has no place for a function).
  .meta({ anyOf: [{ required: ["text"] }, { required: ["body"] }] });
export const hookParams = z.object({
  id: webhookId,
  secret: z.string().regex(/^[A-Za-z0-9_-]{43}$/, "the secret part of the hook's URL"),
});

// ---- answers

export const errorAnswer = z
  .object({
    code: z.string().describe("A dotted error code (docs/protocol.md lists them)."),
    message: z.string(),
    fields: z.array(z.string()).optional().describe("With `protocol.invalid_payload`: the failing fields."),
    retry_after: z.number().optional().describe("With `rate_limited`: milliseconds to wait."),
  })
  .loose();

const settingsView = z.object({
  slow_mode: z.number(),
  rules_required: z.boolean(),
  guests: z.boolean(),
  required_claim: z
    .object({ name: z.string(), value: z.union([z.string(), z.number(), z.boolean()]) })
    .nullable(),
  media_review: z.enum(["off", "before"]),
  live: z.boolean(),
});

export const channelStatus = z.object({
  id: z.string(),
  room_id: z.string(),
  alias: z.string(),
  topic: z.string().nullable(),
  public: z.boolean(),
  closed: z.boolean(),
  settings: settingsView,
  rules: z.string().nullable(),
  members: z.number().int(),
  online: z.number().int(),
  next_event_id: z.number().int(),
});

export const directoryAnswer = z.object({
  results: z.array(
    z.object({
      id: z.string(),
      topic: z.string().nullable(),
      public: z.boolean(),
      members: z.number().int(),
      online: z.number().int(),
    }),
  ),
  next_cursor: z.string().nullable().describe("Pass as `cursor` for the next page; null on the last."),
});

export const membersAnswer = z.object({
  members: z.array(
    z.object({
      user: z.string(),
      role: z.enum(["owner", "moderator", "user"]),
      joined_at: z.number().int(),
      online: z.boolean(),
    }),
  ),
});

export const chatEvent = z
  .object({
    channel: z.string(),
    event_id: z.number().int(),
    event_type: z.string(),
    sender: z.string().optional(),
    ts: z.number(),
    content: z.record(z.string(), z.unknown()),
  })
  .loose()
  .describe("A logged event, as `chat.event` pushes it (docs/protocol.md, Events).");

export const eventAnswer = z.object({ event: chatEvent });

export const historyAnswer = z.object({
  results: z.array(chatEvent),
  users: z.record(z.string(), z.object({ id: z.string(), profile: z.object({}).loose() }).loose()),
});

export const emptyAnswer = z.object({}).loose();

export const moderationAnswer = z
  .object({
    until: z.number().nullable().optional().describe("null: until lifted"),
    karma: z.number().optional(),
    channels: z.array(z.string()).optional(),
  })
  .loose();

export const platformUserAnswer = z.object({ channels: z.number().int() });

export const notifyAnswer = z.object({ connections: z.number().int() });

export const webhookCreated = z.object({ id: z.string(), name: z.string(), url: z.string() });
export const webhookList = z.object({
  results: z.array(
    z.object({ id: z.string(), name: z.string(), created_by: z.string(), created_at: z.number() }),
  ),
});
export const hookPosted = z.object({ ok: z.literal(true), event_id: z.number().int() });

export const apiKeyScope = z.enum(API_SCOPES as ["read", "post", "admin"]);
