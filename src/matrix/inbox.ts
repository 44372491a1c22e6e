// The durable transaction inbox. Synapse retries a transaction forever until it gets a 2xx, so we
// write its events to disk (deduplicated by Matrix event id, never by txnId), answer 200, and only
// then process them, in arrival order. An event we cannot process is marked and passed over.
import type { Inbound } from "../domain/inbound.ts";
import type { MediaUrls } from "../domain/media-urls.ts";
import type { Store } from "../domain/ports/store.ts";
import type { Logger } from "../logging.ts";
import { transactionEventSchema } from "./event-schemas.ts";
import { parseRoomEvent } from "./parse.ts";

const BATCH = 200;

export interface Inbox {
  /**
   * Synchronous: when it returns, the events are on disk. Throws if they could not be written.
   * Returns how many were new.
   */
  record(events: readonly unknown[]): Promise<number>;
  /** Processes everything pending; safe to call any time, runs one drain at a time. */
  drain(): Promise<void>;
  /** Starts a drain in the background; a failure is logged, and the rows wait for the next one. */
  drainSoon(): void;
}

export function createInbox(store: Store, inbound: Inbound, media: MediaUrls, log: Logger): Inbox {
  let running: Promise<void> | undefined;
  let again = false;

  const processPending = async () => {
    for (;;) {
      const batch = await store.pendingInbox(BATCH);
      if (batch.length === 0) return;
      for (const entry of batch) {
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
      return await store.recordInbox(rows);
    },
    drain,
  };
}
