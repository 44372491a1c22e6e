// The outbox: native actions waiting to reach Matrix, per channel in order (src/domain/outbox.ts
// drains it), and this installation's id that makes its Matrix txnIds and markers its own.
import type Database from "better-sqlite3";
import type { OutboxEntry, OutboxKind, OutboxStore } from "../../domain/ports/store.ts";
import { asMatrixEventId, asUserId } from "../../protocol/ids.ts";
import { prepareAll } from "./prepare.ts";

interface OutboxRecord {
  id: number;
  channel_id: number;
  seq: number | null;
  kind: string;
  actor: string | null;
  payload: string;
  created_at: number;
  state: string;
  attempts: number;
  first_attempt_at: number | null;
  next_attempt_at: number;
  last_error: string | null;
  matrix_event_id: string | null;
}
const COLUMNS =
  "id, channel_id, seq, kind, actor, payload, created_at, state, attempts, first_attempt_at, next_attempt_at, last_error, matrix_event_id";
const toEntry = (r: OutboxRecord): OutboxEntry => ({
  id: r.id,
  channelId: r.channel_id,
  seq: r.seq,
  kind: r.kind as OutboxKind,
  actor: r.actor === null ? null : asUserId(r.actor),
  payload: JSON.parse(r.payload) as unknown,
  createdAt: r.created_at,
  state: r.state as OutboxEntry["state"],
  attempts: r.attempts,
  firstAttemptAt: r.first_attempt_at,
  nextAttemptAt: r.next_attempt_at,
  lastError: r.last_error,
  matrixEventId: r.matrix_event_id === null ? null : asMatrixEventId(r.matrix_event_id),
});

const SQL = {
  instance: "SELECT value FROM meta WHERE key = 'instance'",
  enqueue: `INSERT INTO outbox (channel_id, seq, kind, actor, payload, created_at, next_attempt_at)
    VALUES (?, ?, ?, ?, ?, ?, 0)`,
  byId: `SELECT ${COLUMNS} FROM outbox WHERE id = ?`,
  next: `SELECT ${COLUMNS} FROM outbox WHERE state = 'pending' AND channel_id = ? ORDER BY id LIMIT 1`,
  pendingOfKind: `SELECT ${COLUMNS} FROM outbox WHERE state = 'pending' AND channel_id = ? AND kind = ? ORDER BY id`,
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
      return row && toEntry(row);
    },
    nextOutboxEntry(channelId) {
      const row = q.next.get(channelId) as OutboxRecord | undefined;
      return row && toEntry(row);
    },
    pendingOutbox: (channelId, kind) => (q.pendingOfKind.all(channelId, kind) as OutboxRecord[]).map(toEntry),
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
