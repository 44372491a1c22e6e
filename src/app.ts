// The composition root: the only module that picks concrete implementations. Tests start Parley
// through it exactly as `parley start` does. Three phases, undone in reverse by stop():
//   1. createServices: the domain wired on the store, the Matrix port and the fan-out (no I/O);
//   2. startMatrixSide: inbox, appservice listener, bot, ping loop and gap fill;
//   3. startGateway: the WebSocket and HTTP endpoints for clients (and /ready, /metrics, /api/v1).
// stop() first drains (docs/operations.md): /ready says 503, clients are told to reconnect
// elsewhere, and the outbox gets a bounded time to hand its entries to the homeserver.
import { readFileSync } from "node:fs";
import { API_OPERATIONS } from "./api/operations/index.ts";
import { apiRoutes } from "./api/router.ts";
import type { Config } from "./config/load.ts";
import { createMediaUrls } from "./domain/media-urls.ts";
import { createNaming } from "./domain/naming.ts";
import { type RateLimiter, type SharedRateLimiter, sharedFrom } from "./domain/ports/rate-limit.ts";
import { createSingleNodeFanOut } from "./fanout/local.ts";
import { mediaRoutes } from "./gateway/media-http.ts";
import type { GatewayObserver } from "./gateway/observer.ts";
import { type ReadinessCheck, readinessRoute } from "./gateway/ready-http.ts";
import { clientAddress, type Gateway, type HttpRoute, startGateway } from "./gateway/server.ts";
import { webRoutes } from "./gateway/web-http.ts";
import { ACTION_NAMES, createRouter } from "./handlers/router.ts";
import { createMemoryRateLimiter } from "./limits/memory.ts";
import { createLogger, type Logger } from "./logging.ts";
import { createAppservice } from "./matrix/appservice.ts";
import { startMatrixSide } from "./matrix/bridge.ts";
import { checkHomeserver, observeHomeserverCalls } from "./matrix/homeserver-requests.ts";
import { createMatrixAdapter } from "./matrix/matrix-adapter.ts";
import { type Registration, readRegistration } from "./matrix/registration.ts";
import { createRoomReader } from "./matrix/room-readers.ts";
import { metricsRoute, startMetricsServer } from "./metrics/http.ts";
import { createMetrics } from "./metrics/metrics.ts";
import { drain, inboxStats, storeWritable } from "./operations.ts";
import { ERROR_CODES } from "./protocol/errors.ts";
import { joinCluster } from "./redis/cluster.ts";
import { createServices, type ParleyServices } from "./services.ts";
import { openStore } from "./store/open.ts";

const VERSION = (
  JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }
).version;

export interface Parley {
  readonly gatewayPort: number;
  readonly gatewayUrl: string;
  /** Where /metrics is served when `metrics.port` is set; otherwise on the gateway's port. */
  readonly metricsPort: number | undefined;
  /** Native actions waiting for the homeserver, and how long the oldest has. */
  outboxStats(): Promise<{ pending: number; oldestAgeMs: number | null }>;
  /** Drains (bounded by gateway.drain_timeout_ms), then stops; calling it again waits for the same. */
  stop(): Promise<void>;
}

/** Each readiness check's time to answer. */
const READY_CHECK_TIMEOUT_MS = 3_000;

/** Operations' additions to the gateway: /ready and /metrics, and who counts its traffic. */
export interface GatewayOperations {
  readonly routes: readonly HttpRoute[];
  readonly observer?: GatewayObserver;
}

/**
 * Phase three: the router and the gateway (WebSocket, media, the web page) on top of the services.
 * The middle test tier starts exactly this, with a fake homeserver behind the services.
 */
export function startClientGateway(
  config: Config,
  services: ParleyServices,
  limiter: RateLimiter,
  logger: (module: string) => Logger,
  operations: GatewayOperations = { routes: [] },
  /** What one API key may do in the whole installation; by default this node's buckets. */
  sharedLimiter: SharedRateLimiter = sharedFrom(limiter),
): Promise<Gateway> {
  const router = createRouter(
    services,
    { limiter, requests: config.limits.requests, messages: config.limits.messages },
    logger("Router"),
  );
  return startGateway(
    { ...config.gateway, connectionsPerAddress: config.limits.connectionsPerAddress },
    {
      router,
      fanout: services.fanout,
      limiter,
      log: logger("Gateway"),
      ...(operations.observer ? { observer: operations.observer } : {}),
      routes: [
        ...operations.routes,
        mediaRoutes({
          authenticator: services.authenticator,
          admission: services.admission,
          users: services.users,
          media: services.media,
          downloadConcurrency: config.media.downloadConcurrency,
          cacheBytes: config.media.downloadCacheBytes,
          addressOf: (req) => clientAddress(req, config.gateway.trustedProxies),
          log: logger("Media"),
        }),
        apiRoutes({
          services,
          operations: API_OPERATIONS,
          rate: { limiter: sharedLimiter, rule: config.limits.apiRequests },
          version: VERSION,
        }),
        ...(config.gateway.webClient
          ? [webRoutes(config.gateway.path, config.gateway.webEmbedOrigins, config.gateway.publicUrl)]
          : []),
      ],
    },
  );
}

export async function startParley(config: Config, registration?: Registration): Promise<Parley> {
  const reg = registration ?? readRegistration(config.appservice.registrationPath);
  const store = await openStore(config);
  const naming = createNaming({
    serverName: config.homeserver.serverName,
    userPrefix: config.appservice.userPrefix,
    aliasPrefix: config.appservice.aliasPrefix,
    botLocalpart: reg.sender_localpart,
  });
  const appservice = createAppservice(
    { homeserverUrl: config.homeserver.url, serverName: config.homeserver.serverName, registration: reg },
    store,
  );
  const limiter = createMemoryRateLimiter();
  const log = createLogger("Parley");
  const metrics = config.metrics.enabled
    ? createMetrics({ actions: ACTION_NAMES, errorCodes: Object.keys(ERROR_CODES) })
    : undefined;
  // With port 0 the public URL (for media links) is only known once the gateway listens.
  let publicUrl = config.gateway.publicUrl ?? `http://${config.gateway.bind}:${config.gateway.port}`;
  const mediaUrls = createMediaUrls(() => publicUrl);
  const matrix = createMatrixAdapter(
    appservice,
    {
      url: config.homeserver.url,
      serverName: config.homeserver.serverName,
      accessToken: reg.as_token,
      directoryNetwork: reg.id,
    },
    mediaUrls,
    createRoomReader(store, (userId) => naming.isNativeUser(userId)),
  );

  // Each phase registers how to undo itself; stop(), or a phase that fails to start, undoes
  // what started, in reverse.
  const undo: Array<() => Promise<void> | void> = [() => store.close(), () => limiter.stop()];
  if (metrics) undo.push(observeHomeserverCalls(metrics.homeserver));
  const undoAll = async () => {
    for (const step of undo.reverse()) await step();
  };
  try {
    // 0. The other nodes, if this is one of several.
    const cluster =
      config.cluster.redisUrl === undefined
        ? undefined
        : await joinCluster(config.cluster.redisUrl, config.cluster.nodeId, createLogger);
    if (cluster) undo.push(() => cluster.leave());
    // 1. The domain.
    const fanout = cluster?.fanout ?? createSingleNodeFanOut();
    const services = createServices({
      config,
      store,
      matrix,
      fanout: metrics ? metrics.timed(fanout) : fanout,
      ...(cluster ? { bus: cluster.bus, shared: cluster.shared, sharedLimiter: cluster.sharedLimiter } : {}),
      limiter,
      naming,
      mediaUrls,
      publicUrl: () => publicUrl,
      logger: createLogger,
    });
    // 2. The Matrix side.
    const matrixSide = await startMatrixSide({
      config,
      registration: reg,
      store,
      appservice,
      domain: services,
      limiter,
      mediaUrls,
      ...(cluster ? { bus: cluster.bus } : {}),
      logger: createLogger,
    });
    undo.push(() => matrixSide.stop());
    // The domain's timers and the outbox, once the Matrix side can take what they send.
    await services.background.start();
    undo.push(() => services.background.stop());

    // 3. The gateway, with /ready and /metrics.
    metrics?.watchQueues({ outbox: () => services.outbox.stats(), inbox: () => inboxStats(store) });
    const checks: ReadinessCheck[] = [
      { name: "homeserver", check: () => checkHomeserver(config.homeserver.url, READY_CHECK_TIMEOUT_MS) },
      storeWritable(store, config.cluster.nodeId),
      ...(cluster ? [{ name: "bus", check: () => cluster.ping() }] : []),
    ];
    let draining = false;
    const gateway = await startClientGateway(
      config,
      services,
      limiter,
      createLogger,
      {
        routes: [
          readinessRoute({ checks, timeoutMs: READY_CHECK_TIMEOUT_MS, draining: () => draining, log }),
          ...(metrics && config.metrics.port === undefined ? [metricsRoute(metrics, log)] : []),
        ],
        ...(metrics ? { observer: metrics.gateway } : {}),
      },
      cluster?.sharedLimiter,
    );
    undo.push(() => gateway.close());
    if (config.gateway.publicUrl === undefined) publicUrl = `http://${config.gateway.bind}:${gateway.port}`;
    const metricsServer =
      metrics && config.metrics.port !== undefined
        ? await startMetricsServer(metrics, { port: config.metrics.port, bind: config.metrics.bind }, log)
        : undefined;
    if (metricsServer) undo.push(() => metricsServer.close());

    let stopping: Promise<void> | undefined;
    return {
      gatewayPort: gateway.port,
      gatewayUrl: `ws://${config.gateway.bind}:${gateway.port}${config.gateway.path}`,
      metricsPort: metricsServer?.port,
      outboxStats: () => services.outbox.stats(),
      stop() {
        stopping ??= (async () => {
          draining = true;
          const timeoutMs = config.gateway.drainTimeoutMs;
          try {
            await drain({ gateway, outbox: services.outbox, timeoutMs, log });
          } finally {
            await undoAll();
          }
        })();
        return stopping;
      },
    };
  } catch (error) {
    await undoAll();
    throw error;
  }
}
