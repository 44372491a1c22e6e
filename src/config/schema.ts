// The configuration schema: every key, its default and its meaning. config/parley.sample.yaml is
// checked against it by a test; `parley config check FILE` validates a file.
import { z } from "zod";

const port = z.number().int().min(0).max(65535);
const localpartPrefix = z.string().regex(/^[a-z0-9._=-]+$/, "lower-case letters, digits and ._=- only");

export const configSchema = z
  .object({
    homeserver: z
      .object({
        /** Where Parley reaches the homeserver's client-server API. */
        url: z.url(),
        /** The server name in user ids and aliases (`@chat_alice:<server_name>`). */
        server_name: z.string().min(1),
      })
      .strict(),
    appservice: z
      .object({
        /** The registration file (tokens, namespaces) shared with the homeserver. */
        registration: z.string().min(1),
        id: z.string().min(1).default("parley"),
        /** Where the appservice HTTP listener binds; the homeserver pushes transactions here. */
        bind: z.string().default("127.0.0.1"),
        port: port.default(9009),
        /** The URL the homeserver uses to reach that listener (written into the registration). */
        url: z.url().default("http://127.0.0.1:9009"),
        bot_localpart: localpartPrefix.default("parley"),
        user_prefix: localpartPrefix.default("chat_"),
        alias_prefix: localpartPrefix.default("chat_"),
      })
      .strict(),
    gateway: z
      .object({
        bind: z.string().default("127.0.0.1"),
        port: port.default(8080),
        path: z.string().startsWith("/").default("/chat"),
        /** Serve the web chat page (web/) at `/`. */
        web_client: z.boolean().default(false),
        /** How clients reach this server over HTTP, for media URLs; default http://<bind>:<port>. */
        public_url: z.url().optional(),
        /** Frames larger than this close the connection with 1009. */
        max_payload_bytes: z
          .number()
          .int()
          .min(1024)
          .max(16 * 1024 * 1024)
          .default(64 * 1024),
        /** A client that lets this much pile up unread is disconnected (4008). */
        max_buffered_bytes: z
          .number()
          .int()
          .min(64 * 1024)
          .default(4 * 1024 * 1024),
        /** Time a connection has to authenticate before it is closed (4001). */
        auth_timeout_ms: z.number().int().min(100).default(30_000),
        /** Requests one connection may have waiting; beyond it the reply is `rate_limited`. */
        max_pending_requests: z.number().int().min(1).default(64),
      })
      .strict()
      .default({
        bind: "127.0.0.1",
        port: 8080,
        path: "/chat",
        web_client: false,
        max_payload_bytes: 64 * 1024,
        max_buffered_bytes: 4 * 1024 * 1024,
        auth_timeout_ms: 30_000,
        max_pending_requests: 64,
      }),
    auth: z
      .object({
        /** HS256 secret for client JWTs, at least 32 characters. Prefer jwt_secret_file. */
        jwt_secret: z.string().min(32).optional(),
        jwt_secret_file: z.string().min(1).optional(),
        /** Allow `authenticate` with a `client_id` and no token. */
        guests: z.boolean().default(false),
      })
      .strict()
      .refine((a) => (a.jwt_secret === undefined) !== (a.jwt_secret_file === undefined), {
        message: "set exactly one of jwt_secret and jwt_secret_file",
      }),
    store: z
      .object({
        /** The SQLite database file. */
        sqlite_path: z.string().min(1),
      })
      .strict(),
    chat: z
      .object({
        /** Channels with more joined members than this batch join/leave pushes (`chat.events`). */
        member_batch_threshold: z.number().int().min(0).default(100),
        /** How long a batch of join/leave pushes waits, at most. */
        member_batch_window_ms: z.number().int().min(10).max(60_000).default(1000),
      })
      .strict()
      .default({ member_batch_threshold: 100, member_batch_window_ms: 1000 }),
    media: z
      .object({
        /** The largest file a native user may upload. */
        max_upload_bytes: z
          .number()
          .int()
          .min(1024)
          .default(10 * 1024 * 1024),
        /** Allowed MIME types; `type/*` allows a whole family. */
        allowed_types: z
          .array(z.string().regex(/^[\w.+-]+\/([\w.+-]+|\*)$/))
          .default(["image/*", "audio/*", "video/*", "application/pdf", "text/plain"]),
      })
      .strict()
      .default({
        max_upload_bytes: 10 * 1024 * 1024,
        allowed_types: ["image/*", "audio/*", "video/*", "application/pdf", "text/plain"],
      }),
    log: z
      .object({ level: z.enum(["debug", "info", "warn", "error"]).default("info") })
      .strict()
      .default({ level: "info" }),
  })
  .strict();

export type ConfigFile = z.infer<typeof configSchema>;
