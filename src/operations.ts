// What the composition root (app.ts) needs to run Parley for an operator, kept out of it: the
// store's readiness check, the inbox as the metrics read it, and the drain before a stop
// (docs/operations.md). Types only: app.ts hands in the concrete parts.
import type { Outbox } from "./domain/outbox.ts";
import type { Store } from "./domain/ports/store.ts";
import type { ReadinessCheck } from "./gateway/ready-http.ts";
import type { Gateway } from "./gateway/server.ts";
import type { Logger } from "./logging.ts";
import type { QueueStats } from "./metrics/metrics.ts";

/** How often the drain looks at the outbox. */
const DRAIN_POLL_MS = 100;

/**
 * The store takes a write: a lease row of this node's own, taken and given back. A full disk, a
 * read-only file, or a PostgreSQL that refuses writes (a read-only replica after a failover) fail it.
 */
export function storeWritable(store: Store, nodeId: string): ReadinessCheck {
  const name = `ready:${nodeId}`;
  return {
    name: "store",
    async check() {
      if (!(await store.acquireLease(name, nodeId, 60_000, Date.now()))) {
        throw new Error("the store did not take the write");
      }
      await store.releaseLease(name, nodeId);
    },
  };
}

/** The inbox's backlog, as the metrics show it. */
export async function inboxStats(store: Store): Promise<QueueStats> {
  const { pending, oldestReceivedAt } = await store.inboxStats();
  return { pending, oldestAgeMs: oldestReceivedAt === null ? null : Date.now() - oldestReceivedAt };
}

export interface DrainDeps {
  readonly gateway: Pick<Gateway, "drain" | "connectionCount">;
  readonly outbox: Pick<Outbox, "stats">;
  readonly timeoutMs: number;
  readonly log: Logger;
}

/**
 * Before a stop: clients are closed with 1001 (connect again: elsewhere), the requests they were
 * running are answered, then the outbox gets until the deadline to hand its entries to the
 * homeserver. What is left waits in the store for the next start (of this node or another).
 */
export async function drain({ gateway, outbox, timeoutMs, log }: DrainDeps): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const waiting = await outbox.stats().catch(() => undefined);
  log.info(
    `draining: closing ${gateway.connectionCount()} connections (1001), then handing ` +
      `${waiting?.pending ?? "the"} outbox entries to the homeserver (at most ${timeoutMs} ms)`,
  );
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    gateway.drain(),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
    }),
  ]);
  clearTimeout(timer);
  for (;;) {
    const { pending } = await outbox.stats().catch(() => ({ pending: -1 }));
    if (pending === 0) {
      log.info("drained: the outbox is empty");
      return;
    }
    if (Date.now() >= deadline) {
      log.warn(
        `drain time is up with ${pending < 0 ? "an unreadable number of" : pending} outbox entries ` +
          "waiting: they go to the homeserver when Parley (this node or another) runs again",
      );
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, DRAIN_POLL_MS));
  }
}
