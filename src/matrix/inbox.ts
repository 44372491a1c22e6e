// The durable transaction inbox. Synapse retries a transaction forever until it gets a 2xx, so we
// write its events to disk (deduplicated by Matrix event id, never by txnId), answer 200, and only
// then process them, in arrival order. An event we cannot process is marked and passed over.
// With several nodes, any of them may record (they share the store); one at a time processes,
// under the "inbox" lease, and the others tell it when they recorded something.
import type { Inbound } from "../domain/inbound.ts";
import type { MediaUrls } from "../domain/media-urls.ts";
import type { Store } from "../domain/ports/store.ts";
import type { Logger } from "../logging.ts";
import { transactionEventSchema } from "./event-schemas.ts";
import { parseRoomEvent } from "./parse.ts";

const BATCH = 200;

export interface Inbox {
  /** Resolves once the events are stored; rejects if they could not be. Says how many were new. */
  record(events: readonly unknown[]): Promise<number>;
  /** Processes everything pending; safe to call any time, runs one drain at a time. */
  drain(): Promise<void>;
  /** Starts a drain in the background; a failure is logged, and the rows wait for the next one. */
  drainSoon(): void;
}

/** The processor's lease lasts this long unless renewed (a node that died is replaced after it). */
const LEASE_MS = 15_000;

export interface InboxCluster {
  /** This node, as holder of the inbox lease. */
  readonly nodeId: string;
  /** Tells the other nodes something was recorded (the processor may be one of them). */
  readonly recorded: () => void;
}

export function createInbox(
  store: Store,
  inbound: Inbound,
  media: MediaUrls,
  log: Logger,
  cluster: InboxCluster = { nodeId: "single", recorded: () => undefined },
): Inbox {
  let running: Promise<void> | undefined;
  let again = false;

  const processPending = async () => {
    if (!(await store.acquireLease("inbox", cluster.nodeId, LEASE_MS, Date.now()))) return;
    try {
      await processLeased();
    } finally {
      await store.releaseLease("inbox", cluster.nodeId);
    }
  };

  const processLeased = async () => {
    let leasedAt = Date.now();
    for (;;) {
      const batch = await store.pendingInbox(BATCH);
      if (batch.length === 0) return;
      for (const entry of batch) {
        // Renewed between events: one batch can outlast the lease.
        if (Date.now() - leasedAt > LEASE_MS / 3) {
          if (!(await store.acquireLease("inbox", cluster.nodeId, LEASE_MS, Date.now()))) return;
          leasedAt = Date.now();
        }
        try {
          const parsed = parseRoomEvent(entry.body, media);
          const result =
            parsed.kind === "skip"
              ? { outcome: "skipped" as const, why: parsed.why }
              : await inbound.handle(parsed);
          await store.finishInbox(
            entry.id,
            result.outcome,
            result.outcome === "skipped" ? result.why : undefined,
          );
        } catch (error) {
          log.error(`event ${entry.matrixEventId} in ${entry.roomId} failed; passing over it`, error);
          await store.finishInbox(entry.id, "failed", error instanceof Error ? error.message : String(error));
        }
      }
    }
  };

  const drain = (): Promise<void> => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        // Yield first so a burst of transactions is processed in one pass.
        await new Promise((resolve) => setImmediate(resolve));
        await processPending();
      } while (again);
    })().finally(() => {
      running = undefined;
    });
    return running;
  };

  return {
    drainSoon() {
      drain().catch((error: unknown) =>
        log.error("draining the inbox failed; will retry on the next event", error),
      );
    },
    async record(events) {
      const rows = [];
      for (const raw of events) {
        const parsed = transactionEventSchema.safeParse(raw);
        if (!parsed.success) {
          log.warn("transaction event without event_id/room_id ignored");
          continue;
        }
        rows.push({ matrixEventId: parsed.data.event_id, roomId: parsed.data.room_id, body: raw });
      }
      const added = await store.recordInbox(rows);
      if (added > 0) cluster.recorded();
      return added;
    },
    drain,
  };
}
