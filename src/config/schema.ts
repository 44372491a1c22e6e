// The configuration schema: every key, its default and its meaning. config/parley.sample.yaml is
// checked against it by a test; `parley config check FILE` validates a file.
import { z } from "zod";
import { CHANNEL_NAME_PATTERN } from "../protocol/ids.ts";

const port = z.number().int().min(0).max(65535);

/** A token bucket: up to `burst` at once, then `per_minute` a minute. */
const rate = (burst: number, perMinute: number) =>
  z
    .object({
      burst: z.number().int().min(1).default(burst),
      per_minute: z.number().min(0).default(perMinute),
    })
    .strict()
    .prefault({});
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
        /** Transaction bodies larger than this are refused (413) before they are read. */
        max_transaction_bytes: z
          .number()
          .int()
          .min(1024 * 1024)
          .default(16 * 1024 * 1024),
        bot_localpart: localpartPrefix.default("parley"),
        /**
         * List public channels in the room directory ("Explore rooms"): in the appservice's own
         * list always, and in the server's where its room_list_publication_rules allow the bot.
         */
        publish_channels: z.boolean().default(true),
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
        /** Pages that may show the web page in a frame (its embed mode beside a player). */
        web_embed_origins: z
          .array(
            z.string().regex(/^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?\/?$/, "an origin: http(s)://host[:port]"),
          )
          .default([]),
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
        /** Connections are pinged this often; one that misses a whole interval is dropped. */
        heartbeat_interval_ms: z.number().int().min(1000).default(30_000),
        /** Requests one connection may have waiting; beyond it the reply is `rate_limited`. */
        max_pending_requests: z.number().int().min(1).default(64),
        /**
         * Web pages allowed to open WebSockets (their Origin, e.g. https://chat.example.org).
         * Empty: any origin (development). Clients that send no Origin (apps) are always let in.
         */
        allowed_origins: z.array(z.url()).default([]),
        /**
         * Reverse proxies whose X-Forwarded-For is believed (its last entry is the client): IPv4 or
         * IPv6 addresses, or IPv4 ranges like 10.0.0.0/8. Anyone else's header is ignored.
         */
        trusted_proxies: z
          .array(z.string().regex(/^[0-9a-fA-F:.]+(\/\d{1,2})?$/, "an IP address or an IPv4 range a.b.c.d/n"))
          .default(["127.0.0.1", "::1"]),
        /** Open WebSockets one client address may hold; more are refused with HTTP 429. */
        max_connections_per_address: z.number().int().min(1).default(1000),
        /** Open (authenticated) connections one user may hold; more are refused with `rate_limited`. */
        max_connections_per_user: z.number().int().min(1).default(20),
        /**
         * On SIGTERM: how long Parley waits, after closing clients' connections (1001: connect
         * again), for the outbox to hand what it holds to the homeserver before it stops.
         */
        drain_timeout_ms: z.number().int().min(0).max(600_000).default(10_000),
      })
      .strict()
      .prefault({}),
    auth: z
      .object({
        /** HS256 secret for client JWTs, at least 32 characters. Prefer jwt_secret_file. */
        jwt_secret: z.string().min(32).optional(),
        jwt_secret_file: z.string().min(1).optional(),
        /** Allow `authenticate` with a `client_id` and no token. */
        guests: z.boolean().default(false),
        /** Tokens whose `exp` lies further ahead than this are refused. */
        max_token_lifetime_s: z
          .number()
          .int()
          .min(60)
          .default(30 * 24 * 3600),
      })
      .strict()
      .refine((a) => (a.jwt_secret === undefined) !== (a.jwt_secret_file === undefined), {
        message: "set exactly one of jwt_secret and jwt_secret_file",
      }),
    store: z
      .object({
        /** The SQLite database file: the store of a one-node installation. */
        sqlite_path: z.string().min(1),
        /**
         * A PostgreSQL database (postgres://user:password@host:port/db): when set, it is the store
         * instead of the SQLite file. Several nodes need it: they share one store.
         */
        postgres_url: z
          .string()
          .regex(/^postgres(ql)?:\/\//, "a postgres:// or postgresql:// URL")
          .optional(),
        /** The same URL read from a file (it holds a password): set at most one of the two. */
        postgres_url_file: z.string().min(1).optional(),
      })
      .strict()
      .refine((s) => s.postgres_url === undefined || s.postgres_url_file === undefined, {
        message: "set at most one of postgres_url and postgres_url_file",
      }),
    // A section with only comments in it (as in the sample) reads as null: the same as absent.
    cluster: z.preprocess(
      (value) => value ?? undefined,
      z
        .object({
          /**
           * Redis (redis://host:port): when set, this node is one of several. Pushes, online state,
           * typing, slow mode and rate limits are shared through it.
           */
          redis_url: z
            .string()
            .regex(/^rediss?:\/\//, "a redis:// or rediss:// URL")
            .optional(),
          /** This node's name in the cluster (logs, leases); by default the host name and process id. */
          node_id: z
            .string()
            .regex(/^[A-Za-z0-9._-]{1,64}$/)
            .optional(),
        })
        .strict()
        .prefault({}),
    ),
    chat: z
      .object({
        /** Channels with more joined members than this batch join/leave pushes (`chat.events`). */
        member_batch_threshold: z.number().int().min(0).default(100),
        /** How long a batch of join/leave pushes waits, at most. */
        member_batch_window_ms: z.number().int().min(10).max(60_000).default(1000),
        /**
         * A native user shows offline on Matrix this long after their last connection closed (a
         * reconnect meanwhile keeps them online without a flicker).
         */
        presence_grace_ms: z.number().int().min(0).max(600_000).default(15_000),
        /**
         * How often a connected native user's presence is told to the homeserver again: a few
         * seconds less than the time after which it shows a silent user offline (Synapse's
         * `presence.sync_online_timeout`, 30 s by default). 0 never tells again (presence off).
         */
        presence_refresh_ms: z
          .number()
          .int()
          .max(3_600_000)
          .refine((ms) => ms === 0 || ms >= 1_000, "0 (never) or at least 1000 ms")
          .default(20_000),
        /**
         * At most this many presence refreshes a second from one node (100: about 2,000 connected
         * users at the default refresh; a 2-core Synapse spends about half a core on that). Past
         * it refreshes come late and some users may look offline on Matrix, but messages keep the
         * homeserver. Changes (a connection, a chosen status, an offline) are not counted.
         */
        presence_refresh_max_per_second: z.number().int().min(1).max(100_000).default(100),
        /** Channels chat.directory lists first, in this order (while they are public). */
        featured_channels: z
          .array(z.string().regex(CHANNEL_NAME_PATTERN, "a channel name is 1-64 of A-Z a-z 0-9 . _ = -"))
          .max(100)
          .default([]),
        /**
         * How long one ranking of the directory (by online members) answers first pages; until six
         * times as long a stale one still answers while the next is built.
         */
        directory_refresh_ms: z.number().int().min(0).max(600_000).default(10_000),
      })
      .strict()
      .prefault({}),
    outbox: z
      .object({
        /**
         * Homeserver calls the outbox makes at once, over all channels (each channel has at most
         * one in flight, to keep its order).
         */
        concurrency: z.number().int().min(1).max(256).default(16),
        /** The waits after the 1st, 2nd, ... failed attempt of an entry; the last one repeats. */
        retry_delays_ms: z
          .array(z.number().int().min(10).max(3_600_000))
          .min(1)
          .max(20)
          .default([1_000, 2_000, 5_000, 10_000, 30_000, 60_000]),
      })
      .strict()
      .prefault({}),
    subscriptions: z
      .object({
        /** Deliveries in flight at once, over all subscriptions (each channel has one at most). */
        concurrency: z.number().int().min(1).max(256).default(16),
        /** A subscriber that has not answered by then has failed this attempt. */
        timeout_ms: z.number().int().min(50).max(120_000).default(10_000),
        /** The wait after a delivery's first failure; it doubles with each further one. */
        retry_first_delay_ms: z.number().int().min(10).max(3_600_000).default(1_000),
        /** The longest wait between two attempts. */
        retry_max_delay_ms: z.number().int().min(10).max(86_400_000).default(3_600_000),
        /** An event failing this long is given up on (logged) and the next one goes. */
        give_up_after_hours: z
          .number()
          .min(24)
          .max(24 * 365)
          .default(72),
        /** How often the store is searched for what is left to deliver (after a restart, a retry). */
        scan_interval_ms: z.number().int().min(10).max(600_000).default(5_000),
      })
      .strict()
      .prefault({}),
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
        /** Media downloads streamed from the homeserver at once; more wait (or get 429 if many wait). */
        download_concurrency: z.number().int().min(1).default(16),
        /** Memory for recently served small files (each at most 1/16 of it). 0 turns the cache off. */
        download_cache_bytes: z
          .number()
          .int()
          .min(0)
          .default(16 * 1024 * 1024),
      })
      .strict()
      .prefault({}),
    limits: z
      .object({
        /** Messages and reactions of one user: a burst a chatting human never hits, a steady rate a script does. */
        messages: rate(15, 60),
        /** Every request of one user, all connections together. */
        requests: rate(300, 3000),
        /** Joins that make the user a member (re-joining and subscribing are free). */
        joins: rate(30, 30),
        /** Channels one user brings into being (each is a Matrix room). */
        channel_creation: rate(5, 2),
        /** Direct channels one user creates. */
        direct_creation: rate(10, 6),
        /** Uploads of one user. */
        uploads: rate(10, 20),
        /** New WebSocket connections from one client address. */
        connections_per_address: rate(100, 1200),
        /** Rooms created because a Matrix user (of any server) looked up an unknown #chat_ alias. */
        alias_rooms: rate(20, 10),
        /** Requests of one server API key (/api/v1). */
        api_requests: rate(600, 6000),
        /** Posts to one channel's incoming webhook. */
        webhook_posts: rate(20, 60),
        /**
         * One client address can hold many users (a venue's wifi), and an attacker can make new
         * guests at will: what costs the homeserver is also limited per address.
         */
        per_address: z
          .object({
            joins: rate(300, 600),
            channel_creation: rate(20, 10),
            direct_creation: rate(50, 30),
            uploads: rate(50, 100),
            /** Guests seen for the first time (each is a new account). */
            new_guests: rate(300, 300),
          })
          .strict()
          .prefault({}),
        /** Whether guests may create channels (by joining or subscribing to a new name). */
        guests_create_channels: z.boolean().default(true),
      })
      .strict()
      .prefault({}),
    log: z
      .object({
        level: z.enum(["debug", "info", "warn", "error"]).default("info"),
        /** `json`: one JSON object per line on stdout ({ts, level, module, message, error?}). */
        format: z.enum(["text", "json"]).default("text"),
      })
      .strict()
      .prefault({}),
    /** Prometheus metrics at GET /metrics (docs/operations.md lists the series). */
    metrics: z
      .object({
        enabled: z.boolean().default(true),
        /** A port of their own; by default /metrics is served on the gateway's port. */
        port: port.optional(),
        /** Where that port binds (only with `port`). */
        bind: z.string().default("127.0.0.1"),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .refine(
    (c) =>
      c.cluster.redis_url === undefined ||
      c.store.postgres_url !== undefined ||
      c.store.postgres_url_file !== undefined,
    {
      message:
        "cluster.redis_url needs store.postgres_url: the nodes of a cluster share one PostgreSQL store",
      path: ["cluster", "redis_url"],
    },
  );

export type ConfigFile = z.infer<typeof configSchema>;
