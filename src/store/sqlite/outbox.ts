// The outbox: native actions waiting to reach Matrix, per channel in order (src/domain/outbox.ts
// drains it), and this installation's id that makes its Matrix txnIds and markers its own.
import type Database from "better-sqlite3";
import type { OutboxStore } from "../../domain/ports/store.ts";
import { OUTBOX_COLUMNS, type OutboxRecord, toOutboxEntry } from "../rows.ts";
import { prepareAll } from "./prepare.ts";

const SQL = {
  instance: "SELECT value FROM meta WHERE key = 'instance'",
  enqueue: `INSERT INTO outbox (channel_id, seq, kind, actor, payload, created_at, next_attempt_at)
    VALUES (?, ?, ?, ?, ?, ?, 0)`,
  byId: `SELECT ${OUTBOX_COLUMNS} FROM outbox WHERE id = ?`,
  next: `SELECT ${OUTBOX_COLUMNS} FROM outbox WHERE state = 'pending' AND channel_id = ? ORDER BY id LIMIT 1`,
  pendingOfKind: `SELECT ${OUTBOX_COLUMNS} FROM outbox WHERE state = 'pending' AND channel_id = ? AND kind = ? ORDER BY id`,
  channels: "SELECT DISTINCT channel_id FROM outbox WHERE state = 'pending'",
  attempt: `UPDATE outbox SET attempts = attempts + 1, first_attempt_at = COALESCE(first_attempt_at, ?),
    last_error = ?, next_attempt_at = ? WHERE id = ?`,
  finish: `UPDATE outbox SET state = ?, matrix_event_id = COALESCE(matrix_event_id, ?), last_error = COALESCE(?, last_error),
    done_at = ? WHERE id = ? AND state = 'pending'`,
  stats: "SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM outbox WHERE state = 'pending'",
} as const;

export function outboxQueries(db: Database.Database): OutboxStore & { instanceId(): string } {
  const q = prepareAll(db, SQL);
  const instance = (q.instance.get() as { value: string }).value;
  return {
    instanceId: () => instance,
    enqueueOutbox: (entry) =>
      Number(
        q.enqueue.run(
          entry.channelId,
          entry.seq,
          entry.kind,
          entry.actor,
          JSON.stringify(entry.payload),
          entry.createdAt,
        ).lastInsertRowid,
      ),
    outboxEntry(id) {
      const row = q.byId.get(id) as OutboxRecord | undefined;
      return row && toOutboxEntry(row);
    },
    nextOutboxEntry(channelId) {
      const row = q.next.get(channelId) as OutboxRecord | undefined;
      return row && toOutboxEntry(row);
    },
    pendingOutbox: (channelId, kind) =>
      (q.pendingOfKind.all(channelId, kind) as OutboxRecord[]).map(toOutboxEntry),
    outboxChannels: () => (q.channels.all() as Array<{ channel_id: number }>).map((r) => r.channel_id),
    recordOutboxAttempt(id, at, error, nextAttemptAt) {
      q.attempt.run(at, error, nextAttemptAt, id);
    },
    finishOutbox(id, state, matrixEventId, error, at) {
      q.finish.run(state, matrixEventId, error, at, id);
    },
    outboxStats() {
      const row = q.stats.get() as { n: number; oldest: number | null };
      return { pending: row.n, oldestCreatedAt: row.oldest };
    },
  };
}
