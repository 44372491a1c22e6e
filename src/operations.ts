// What the composition root (app.ts) needs to run Parley for an operator, kept out of it: the
// inbox as the metrics read it. Types only: app.ts hands in the concrete parts.
import type { Store } from "./domain/ports/store.ts";
import type { QueueStats } from "./metrics/metrics.ts";

/** The inbox's backlog, as the metrics show it. */
export async function inboxStats(store: Store): Promise<QueueStats> {
  const { pending, oldestReceivedAt } = await store.inboxStats();
  return { pending, oldestAgeMs: oldestReceivedAt === null ? null : Date.now() - oldestReceivedAt };
}
