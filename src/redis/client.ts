// Redis connections for a node of a cluster (ioredis). Commands wait through a short outage and
// the client reconnects on its own; what is only shared state (typing, slow-mode windows, rate
// buckets) fails open with a warning rather than failing the user's request.
import { Redis } from "ioredis";
import type { Logger } from "../logging.ts";

/** Every key and bus channel Parley uses starts with this. */
export const KEY_PREFIX = "parley:";

/**
 * `failFast`: while Redis is away, commands fail at once (and take at most a second when it hangs)
 * instead of waiting for it: requests that touch shared state must not stall with it. The bus
 * subscription keeps the default, so its subscribe waits for the connection.
 */
export function connectRedis(
  url: string,
  name: string,
  log: Logger,
  options: { failFast?: boolean } = {},
): Redis {
  const redis = new Redis(url, {
    connectionName: `parley-${name}`,
    maxRetriesPerRequest: 2,
    retryStrategy: (times) => Math.min(times * 200, 2_000),
    ...(options.failFast ? { enableOfflineQueue: false, commandTimeout: 1_000 } : {}),
  });
  const warn = throttledWarn(log);
  redis.on("error", (error: Error) => warn(`redis (${name}): ${error.message}`));
  return redis;
}

/** Logs a repeated warning at most once every `everyMs`: an outage must not flood the log. */
export function throttledWarn(log: Logger, everyMs = 10_000): (message: string, error?: unknown) => void {
  let last = 0;
  return (message, error) => {
    const now = Date.now();
    if (now - last < everyMs) return;
    last = now;
    if (error === undefined) log.warn(message);
    else log.warn(message, error);
  };
}

/** Runs a Redis call; on failure logs (throttled) and answers `fallback`. */
export async function orElse<T>(
  work: () => Promise<T>,
  fallback: T,
  warn: (message: string, error?: unknown) => void,
  what: string,
): Promise<T> {
  try {
    return await work();
  } catch (error) {
    warn(`redis: ${what} failed; going on without it`, error);
    return fallback;
  }
}
