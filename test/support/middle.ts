// The middle test tier: the real domain (createServices), router and gateway on a real WebSocket
// server on port 0, SQLite in memory, and the recording fake of the Matrix port instead of a
// homeserver. Starts in milliseconds; everything but the Matrix network is real.
import { randomBytes } from "node:crypto";
import { startClientGateway } from "../../src/app.ts";
import { signToken } from "../../src/auth/jwt.ts";
import { type Config, parseConfig } from "../../src/config/load.ts";
import { createMediaUrls } from "../../src/domain/media-urls.ts";
import { createNaming } from "../../src/domain/naming.ts";
import type { Store } from "../../src/domain/ports/store.ts";
import { createSingleNodeFanOut } from "../../src/fanout/local.ts";
import type { Gateway } from "../../src/gateway/server.ts";
import { createMemoryRateLimiter } from "../../src/limits/memory.ts";
import type { Logger } from "../../src/logging.ts";
import { createInbox, type Inbox } from "../../src/matrix/inbox.ts";
import { joinCluster } from "../../src/redis/cluster.ts";
import { createServices, type ParleyServices } from "../../src/services.ts";
import { openSqliteStore } from "../../src/store/sqlite/store.ts";
import { TestClient } from "./client.ts";
import { FakeMatrix } from "./fake-matrix.ts";
import { TEST_LIMITS } from "./limits.ts";

export const SERVER = "localhost";
export const puppet = (name: string): string => `@chat_${name}:${SERVER}`;

/** Errors a test expects (refusals) are not worth printing; set PARLEY_TEST_LOG=1 to see them. */
const logger = (module: string): Logger => {
  const print = process.env.PARLEY_TEST_LOG === "1";
  const at =
    (level: string) =>
    (message: string, ...data: unknown[]) =>
      print && console.log(`${level} [${module}] ${message}`, ...data);
  return { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
};

export interface Middle {
  readonly url: string;
  readonly httpUrl: string;
  readonly config: Config;
  readonly services: ParleyServices;
  readonly store: Store;
  readonly fake: FakeMatrix;
  readonly inbox: Inbox;
  token(name: string, displayName?: string, claims?: Record<string, unknown>): Promise<string>;
  /** A native user over a real WebSocket (closed by stop()). */
  login(name: string, displayName?: string, claims?: Record<string, unknown>): Promise<TestClient>;
  /** Waits until every event the fake homeserver produced has gone through the inbox. */
  settle(options?: { outbox?: boolean }): Promise<void>;
  stop(): Promise<void>;
}

export interface MiddleOptions {
  readonly limits?: Record<string, unknown>;
  readonly guests?: boolean;
  readonly chat?: Record<string, unknown>;
  readonly gateway?: Record<string, unknown>;
  readonly media?: Record<string, unknown>;
  /** Event subscriptions' settings, over quick test ones. */
  readonly subscriptions?: Record<string, unknown>;
  /** Another node of the same installation: shares the store and the fake homeserver given. */
  readonly store?: Store;
  readonly fake?: FakeMatrix;
  /** Makes this a node of a cluster over this Redis. */
  readonly cluster?: { readonly redisUrl: string; readonly nodeId: string };
}

export async function startMiddle(options: MiddleOptions = {}): Promise<Middle> {
  const jwtSecret = randomBytes(32).toString("hex");
  const config = parseConfig(
    {
      homeserver: { url: "http://127.0.0.1:1", server_name: SERVER },
      appservice: { registration: "unused.yaml" },
      gateway: { port: 0, auth_timeout_ms: 10_000, ...options.gateway },
      auth: { jwt_secret: jwtSecret, guests: options.guests ?? true },
      store: { sqlite_path: ":memory:" },
      limits: options.limits ?? TEST_LIMITS,
      ...(options.chat ? { chat: options.chat } : {}),
      ...(options.media ? { media: options.media } : {}),
      // Retries soon: tests wait for what a homeserver coming back would see.
      outbox: { retry_delays_ms: [50, 100, 200] },
      subscriptions: {
        timeout_ms: 300,
        retry_first_delay_ms: 20,
        retry_max_delay_ms: 200,
        scan_interval_ms: 100,
        ...options.subscriptions,
      },
    },
    process.cwd(),
  );
  const store = options.store ?? openSqliteStore(":memory:");
  const naming = createNaming({
    serverName: SERVER,
    userPrefix: "chat_",
    aliasPrefix: "chat_",
    botLocalpart: "parley",
  });
  let publicUrl = "http://127.0.0.1";
  const mediaUrls = createMediaUrls(() => publicUrl);
  const fake =
    options.fake ?? new FakeMatrix({ serverName: SERVER, botUserId: naming.botUserId, media: mediaUrls });
  const limiter = createMemoryRateLimiter();
  const cluster = options.cluster
    ? await joinCluster(options.cluster.redisUrl, options.cluster.nodeId, logger)
    : undefined;
  const services = createServices({
    config,
    store,
    matrix: fake.port(),
    fanout: cluster?.fanout ?? createSingleNodeFanOut(),
    ...(cluster ? { bus: cluster.bus, shared: cluster.shared, sharedLimiter: cluster.sharedLimiter } : {}),
    limiter,
    naming,
    mediaUrls,
    publicUrl: () => publicUrl,
    logger,
  });
  await services.background.start();
  const inbox = createInbox(
    store,
    services.inbound,
    mediaUrls,
    logger("Inbox"),
    cluster && { nodeId: cluster.bus.nodeId, recorded: () => undefined },
  );
  // What the fake homeserver sends back arrives as Synapse's transactions do: inbox first.
  fake.onEvents((events) => {
    // Recorded before the fake's "200", as the listener does before answering Synapse.
    return inbox.record(events).then(() => inbox.drainSoon());
  });
  const gateway: Gateway = await startClientGateway(config, services, limiter, logger);
  publicUrl = `http://127.0.0.1:${gateway.port}`;
  const clients: TestClient[] = [];
  const token = (name: string, displayName?: string, claims: Record<string, unknown> = {}) =>
    signToken(jwtSecret, { sub: name, ...(displayName ? { name: displayName } : {}), ...claims });

  /** Everything delivered both ways; the outbox emptied too, unless it waits (a failure's back-off). */
  const settle = async (options: { outbox?: boolean } = {}) => {
    const deadline = Date.now() + 5_000;
    for (let round = 0; ; round++) {
      await fake.delivered();
      await inbox.drain();
      await new Promise((resolve) => setImmediate(resolve));
      const waiting = options.outbox !== false && (await services.outbox.stats()).pending > 0;
      if (round >= 10 && (!waiting || Date.now() > deadline)) return;
      if (waiting && round >= 10) await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };

  return {
    url: `ws://127.0.0.1:${gateway.port}${config.gateway.path}`,
    httpUrl: publicUrl,
    config,
    services,
    store,
    fake,
    inbox,
    token,
    async login(name, displayName, claims) {
      const client = await TestClient.login(`ws://127.0.0.1:${gateway.port}${config.gateway.path}`, {
        token: await token(name, displayName, claims),
      });
      clients.push(client);
      return client;
    },
    settle,
    async stop() {
      for (const client of clients) client.close();
      await gateway.close();
      await settle({ outbox: false });
      await services.background.stop();
      await cluster?.leave();
      limiter.stop();
      if (!options.store) await store.close();
    },
  };
}
