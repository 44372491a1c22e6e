// Runs a real Parley (the same composition root as `parley start`) against the run's Synapse.
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { inject } from "vitest";
import { type Parley, startParley } from "../../src/app.ts";
import { signToken } from "../../src/auth/jwt.ts";
import { type Config, parseConfig } from "../../src/config/load.ts";
import { configureLogging } from "../../src/logging.ts";
import type { E2EEnv } from "./e2e-env.ts";
import { TEST_LIMITS } from "./limits.ts";

export interface TestOverrides {
  readonly guests?: boolean;
  /** A fixed gateway port, so clients can reconnect to the same URL after a restart. */
  readonly gatewayPort?: number;
  readonly memberBatchThreshold?: number;
  /** Config `limits` to use instead of the generous test ones. */
  readonly limits?: Record<string, unknown>;
  /** Config `gateway` keys to add. */
  readonly gateway?: Record<string, unknown>;
  /** Config `metrics` keys. */
  readonly metrics?: Record<string, unknown>;
  /** Config `chat.directory_refresh_ms` (0: a fresh directory ranking for every first page). */
  readonly directoryRefreshMs?: number;
}

export function testConfig(env: E2EEnv, dbName: string, overrides: TestOverrides = {}): Config {
  return parseConfig(
    {
      homeserver: { url: env.homeserverUrl, server_name: env.serverName },
      appservice: {
        registration: env.registrationPath,
        port: env.appservicePort,
        url: `http://127.0.0.1:${env.appservicePort}`,
      },
      gateway: {
        port: overrides.gatewayPort ?? 0,
        auth_timeout_ms: 10_000,
        web_client: true,
        ...overrides.gateway,
      },
      limits: overrides.limits ?? TEST_LIMITS,
      auth: { jwt_secret: env.jwtSecret, guests: overrides.guests ?? true },
      store: { sqlite_path: join(env.root, `${dbName}.db`) },
      chat: {
        member_batch_threshold: overrides.memberBatchThreshold ?? 100,
        member_batch_window_ms: 300,
        presence_grace_ms: 300,
        ...(overrides.directoryRefreshMs === undefined
          ? {}
          : { directory_refresh_ms: overrides.directoryRefreshMs }),
      },
      log: { level: process.env.PARLEY_TEST_LOG === "1" ? "info" : "error" },
      ...(overrides.metrics ? { metrics: overrides.metrics } : {}),
    },
    env.root,
  );
}

export interface TestParley {
  readonly env: E2EEnv;
  readonly config: Config;
  /** The running Parley itself. */
  parley(): Parley;
  url(): string;
  /** The gateway's HTTP base URL (media, health, the web page), e.g. http://127.0.0.1:8080 */
  httpUrl(): string;
  restart(): Promise<void>;
  stop(): Promise<void>;
  /** Resolves once every native action so far has reached the homeserver (the outbox is empty). */
  mirrored(timeoutMs?: number): Promise<void>;
  token(name: string, displayName?: string, ttlSeconds?: number): Promise<string>;
}

/** A unique suffix so tests sharing one Synapse never collide on names. */
export const unique = (prefix: string): string => `${prefix}_${randomBytes(4).toString("hex")}`;

export async function startTestParley(options: TestOverrides = {}): Promise<TestParley> {
  const env = inject("e2e");
  const config = testConfig(env, unique("parley"), options);
  configureLogging(config.log.level);
  let parley: Parley | undefined = await startParley(config);
  return {
    env,
    config,
    parley() {
      if (!parley) throw new Error("Parley is stopped");
      return parley;
    },
    url: () => {
      if (!parley) throw new Error("Parley is stopped");
      return parley.gatewayUrl;
    },
    httpUrl() {
      if (!parley) throw new Error("Parley is stopped");
      return parley.gatewayUrl.replace(/^ws/, "http").replace(/\/[^/]*$/, "");
    },
    async restart() {
      await parley?.stop();
      parley = undefined;
      parley = await startParley(config);
    },
    async stop() {
      await parley?.stop();
      parley = undefined;
    },
    async mirrored(timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (!parley) throw new Error("Parley is stopped");
        const { pending } = await parley.outboxStats();
        if (pending === 0) return;
        if (Date.now() > deadline) throw new Error(`the outbox still holds ${pending} entries`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    token: (name, displayName, ttlSeconds) =>
      signToken(env.jwtSecret, { sub: name, ...(displayName ? { name: displayName } : {}) }, ttlSeconds),
  };
}
