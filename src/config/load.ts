// Loads, validates and freezes the configuration once. Relative paths are resolved against the
// directory of the config file, so Parley behaves the same whatever directory it starts in.
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { dirname, isAbsolute, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import type { RateRule, UserAndAddressRule } from "../domain/ports/rate-limit.ts";
import type { SubscriptionSettings } from "../domain/subscriptions/subscriptions.ts";
import { asChannelName, type ChannelName } from "../protocol/ids.ts";
import { configSchema } from "./schema.ts";

export interface Limits {
  readonly messages: RateRule;
  readonly requests: RateRule;
  readonly joins: UserAndAddressRule;
  readonly channelCreation: UserAndAddressRule;
  readonly directCreation: UserAndAddressRule;
  readonly uploads: UserAndAddressRule;
  readonly connectionsPerAddress: RateRule;
  readonly newGuestsPerAddress: RateRule;
  readonly aliasRooms: RateRule;
  readonly apiRequests: RateRule;
  readonly webhookPosts: RateRule;
  readonly guestsCreateChannels: boolean;
}

export interface Config {
  readonly homeserver: { readonly url: string; readonly serverName: string };
  readonly appservice: {
    readonly registrationPath: string;
    readonly id: string;
    readonly bind: string;
    readonly port: number;
    readonly url: string;
    readonly maxTransactionBytes: number;
    readonly botLocalpart: string;
    readonly publishChannels: boolean;
    readonly userPrefix: string;
    readonly aliasPrefix: string;
  };
  readonly gateway: {
    readonly bind: string;
    readonly port: number;
    readonly path: string;
    readonly webClient: boolean;
    /** Origins allowed to frame the web page (besides its own). */
    readonly webEmbedOrigins: readonly string[];
    /** Explicitly configured; otherwise http://<bind>:<actual port>, known once listening. */
    readonly publicUrl: string | undefined;
    readonly maxPayloadBytes: number;
    readonly maxBufferedBytes: number;
    readonly authTimeoutMs: number;
    readonly maxPendingRequests: number;
    readonly heartbeatIntervalMs: number;
    readonly allowedOrigins: readonly string[];
    readonly trustedProxies: readonly string[];
    readonly maxConnectionsPerAddress: number;
    readonly maxConnectionsPerUser: number;
    readonly drainTimeoutMs: number;
  };
  readonly auth: {
    readonly jwtSecret: string;
    readonly guests: boolean;
    readonly maxTokenLifetimeS: number;
  };
  readonly store: { readonly sqlitePath: string; readonly postgresUrl: string | undefined };
  readonly cluster: { readonly redisUrl: string | undefined; readonly nodeId: string };
  readonly chat: {
    readonly memberBatchThreshold: number;
    readonly memberBatchWindowMs: number;
    readonly presenceGraceMs: number;
    readonly presenceRefreshMs: number;
    readonly presenceRefreshMaxPerSecond: number;
    readonly featuredChannels: readonly ChannelName[];
    readonly directoryRefreshMs: number;
  };
  readonly outbox: { readonly concurrency: number; readonly retryDelaysMs: readonly number[] };
  readonly subscriptions: SubscriptionSettings;
  readonly media: {
    readonly maxUploadBytes: number;
    readonly allowedTypes: readonly string[];
    readonly downloadConcurrency: number;
    readonly downloadCacheBytes: number;
  };
  readonly limits: Limits;
  readonly log: { readonly level: "debug" | "info" | "warn" | "error"; readonly format: "text" | "json" };
  readonly metrics: { readonly enabled: boolean; readonly port: number | undefined; readonly bind: string };
}

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

const rule = (r: { burst: number; per_minute: number }): RateRule =>
  Object.freeze({ burst: r.burst, perMinute: r.per_minute });

export function parseConfig(raw: unknown, baseDir: string): Config {
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(`invalid configuration:\n${z.prettifyError(parsed.error)}`);
  const c = parsed.data;
  const path = (p: string) => (isAbsolute(p) || p === ":memory:" ? p : resolve(baseDir, p));
  let jwtSecret = c.auth.jwt_secret;
  if (c.auth.jwt_secret_file !== undefined) {
    const file = path(c.auth.jwt_secret_file);
    try {
      jwtSecret = readFileSync(file, "utf8").trim();
    } catch {
      throw new ConfigError(`auth.jwt_secret_file: cannot read ${file}`);
    }
    if (jwtSecret.length < 32)
      throw new ConfigError(`auth.jwt_secret_file: ${file} holds fewer than 32 characters`);
  }
  let postgresUrl = c.store.postgres_url;
  if (c.store.postgres_url_file !== undefined) {
    const file = path(c.store.postgres_url_file);
    try {
      postgresUrl = readFileSync(file, "utf8").trim();
    } catch {
      throw new ConfigError(`store.postgres_url_file: cannot read ${file}`);
    }
    if (!/^postgres(ql)?:\/\//.test(postgresUrl))
      throw new ConfigError(`store.postgres_url_file: ${file} does not hold a postgres:// URL`);
  }
  return Object.freeze({
    homeserver: { url: c.homeserver.url.replace(/\/+$/, ""), serverName: c.homeserver.server_name },
    appservice: {
      registrationPath: path(c.appservice.registration),
      id: c.appservice.id,
      bind: c.appservice.bind,
      port: c.appservice.port,
      url: c.appservice.url,
      maxTransactionBytes: c.appservice.max_transaction_bytes,
      botLocalpart: c.appservice.bot_localpart,
      publishChannels: c.appservice.publish_channels,
      userPrefix: c.appservice.user_prefix,
      aliasPrefix: c.appservice.alias_prefix,
    },
    gateway: {
      bind: c.gateway.bind,
      port: c.gateway.port,
      path: c.gateway.path,
      webClient: c.gateway.web_client,
      webEmbedOrigins: c.gateway.web_embed_origins.map((origin) => new URL(origin).origin),
      publicUrl: c.gateway.public_url?.replace(/\/+$/, ""),
      maxPayloadBytes: c.gateway.max_payload_bytes,
      maxBufferedBytes: c.gateway.max_buffered_bytes,
      authTimeoutMs: c.gateway.auth_timeout_ms,
      maxPendingRequests: c.gateway.max_pending_requests,
      heartbeatIntervalMs: c.gateway.heartbeat_interval_ms,
      // Origins compare as the browser sends them: scheme://host[:port], no trailing slash.
      allowedOrigins: c.gateway.allowed_origins.map((origin) => new URL(origin).origin),
      trustedProxies: c.gateway.trusted_proxies,
      maxConnectionsPerAddress: c.gateway.max_connections_per_address,
      maxConnectionsPerUser: c.gateway.max_connections_per_user,
      drainTimeoutMs: c.gateway.drain_timeout_ms,
    },
    auth: {
      jwtSecret: jwtSecret as string,
      guests: c.auth.guests,
      maxTokenLifetimeS: c.auth.max_token_lifetime_s,
    },
    store: { sqlitePath: path(c.store.sqlite_path), postgresUrl },
    cluster: {
      redisUrl: c.cluster.redis_url,
      nodeId: c.cluster.node_id ?? `${hostname()}-${process.pid}`,
    },
    media: {
      maxUploadBytes: c.media.max_upload_bytes,
      allowedTypes: c.media.allowed_types,
      downloadConcurrency: c.media.download_concurrency,
      downloadCacheBytes: c.media.download_cache_bytes,
    },
    limits: {
      messages: rule(c.limits.messages),
      requests: rule(c.limits.requests),
      joins: { user: rule(c.limits.joins), address: rule(c.limits.per_address.joins) },
      channelCreation: {
        user: rule(c.limits.channel_creation),
        address: rule(c.limits.per_address.channel_creation),
      },
      directCreation: {
        user: rule(c.limits.direct_creation),
        address: rule(c.limits.per_address.direct_creation),
      },
      uploads: { user: rule(c.limits.uploads), address: rule(c.limits.per_address.uploads) },
      connectionsPerAddress: rule(c.limits.connections_per_address),
      newGuestsPerAddress: rule(c.limits.per_address.new_guests),
      aliasRooms: rule(c.limits.alias_rooms),
      apiRequests: rule(c.limits.api_requests),
      webhookPosts: rule(c.limits.webhook_posts),
      guestsCreateChannels: c.limits.guests_create_channels,
    },
    chat: {
      memberBatchThreshold: c.chat.member_batch_threshold,
      memberBatchWindowMs: c.chat.member_batch_window_ms,
      presenceGraceMs: c.chat.presence_grace_ms,
      presenceRefreshMs: c.chat.presence_refresh_ms,
      presenceRefreshMaxPerSecond: c.chat.presence_refresh_max_per_second,
      featuredChannels: c.chat.featured_channels.map(asChannelName),
      directoryRefreshMs: c.chat.directory_refresh_ms,
    },
    outbox: { concurrency: c.outbox.concurrency, retryDelaysMs: c.outbox.retry_delays_ms },
    subscriptions: {
      concurrency: c.subscriptions.concurrency,
      timeoutMs: c.subscriptions.timeout_ms,
      retryFirstDelayMs: c.subscriptions.retry_first_delay_ms,
      retryMaxDelayMs: c.subscriptions.retry_max_delay_ms,
      giveUpAfterHours: c.subscriptions.give_up_after_hours,
      scanIntervalMs: c.subscriptions.scan_interval_ms,
    },
    log: c.log,
    metrics: { enabled: c.metrics.enabled, port: c.metrics.port, bind: c.metrics.bind },
  });
}

export function loadConfig(file: string): Config {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    throw new ConfigError(`cannot read config file ${file}`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (error) {
    throw new ConfigError(`${file} is not valid YAML: ${(error as Error).message}`);
  }
  return parseConfig(raw, dirname(resolve(file)));
}
