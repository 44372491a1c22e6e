// A node's membership of a cluster: two Redis connections (commands and publishing, and the
// bus subscription), and what is built on them: the bus, presence, the fan-out over every node,
// the shared board and the shared rate limits.
import { once } from "node:events";
import type { ClusterBus } from "../domain/ports/bus.ts";
import type { FanOut } from "../domain/ports/fanout.ts";
import type { SharedRateLimiter } from "../domain/ports/rate-limit.ts";
import type { SharedState } from "../domain/ports/shared-state.ts";
import { createLocalFanOut } from "../fanout/local.ts";
import type { Logger } from "../logging.ts";
import { createRedisBus } from "./bus.ts";
import { connectRedis } from "./client.ts";
import { createClusterFanOut } from "./fanout.ts";
import { createPresence } from "./presence.ts";
import { createRedisRateLimiter } from "./rate-limit.ts";
import { createRedisSharedState } from "./shared-state.ts";

export interface ClusterMembership {
  readonly bus: ClusterBus;
  readonly fanout: FanOut;
  readonly shared: SharedState;
  readonly sharedLimiter: SharedRateLimiter;
  /** Resolves when Redis answers PING (for /ready); rejects at once when it is not connected. */
  ping(): Promise<void>;
  leave(): Promise<void>;
}

const READY_TIMEOUT_MS = 30_000;

/** Host and port only: the URL may carry a password (in its user part or its query). */
const redisAddress = (url: string): string => {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || "6379"}`;
  } catch {
    return "(an unreadable Redis URL)";
  }
};

export async function joinCluster(
  redisUrl: string,
  nodeId: string,
  logger: (module: string) => Logger,
): Promise<ClusterMembership> {
  const log = logger("Cluster");
  const commands = connectRedis(redisUrl, `${nodeId}-commands`, log, { failFast: true });
  // Without an offline queue, nothing may be sent before the connection is ready.
  if (commands.status !== "ready") {
    await once(commands, "ready", { signal: AbortSignal.timeout(READY_TIMEOUT_MS) }).catch(() => {
      throw new Error(
        `Redis at ${redisAddress(redisUrl)} did not answer within ${READY_TIMEOUT_MS / 1000} s`,
      );
    });
  }
  const subscriber = connectRedis(redisUrl, `${nodeId}-bus`, log);
  const bus = createRedisBus(commands, subscriber, nodeId, log);
  await bus.ready();
  const presence = createPresence(commands, nodeId, log);
  log.info(`node ${nodeId} joined the cluster at ${redisAddress(redisUrl)}`);
  return {
    bus,
    fanout: createClusterFanOut(createLocalFanOut(), bus, presence),
    shared: createRedisSharedState(commands, log),
    sharedLimiter: createRedisRateLimiter(commands, log),
    async ping() {
      await commands.ping();
    },
    async leave() {
      await presence.stop();
      await bus.close();
      await Promise.allSettled([commands.quit(), subscriber.quit()]);
    },
  };
}
