// The outbox: native actions waiting to reach Matrix, per channel in order (src/domain/outbox.ts
// drains it), and this installation's id that makes its Matrix txnIds and markers its own.
import type { Async, OutboxStore } from "../../domain/ports/store.ts";
import { OUTBOX_COLUMNS, type OutboxRecord, toOutboxEntry } from "../rows.ts";
import { type Db, named } from "./db.ts";

const SQL = named("outbox", {
  instance: "SELECT value FROM meta WHERE key = 'instance'",
  enqueue: `INSERT INTO outbox (channel_id, seq, kind, actor, payload, created_at, next_attempt_at)
    VALUES ($1, $2, $3, $4, $5, $6, 0) RETURNING id`,
  byId: `SELECT ${OUTBOX_COLUMNS} FROM outbox WHERE id = $1`,
  next: `SELECT ${OUTBOX_COLUMNS} FROM outbox WHERE state = 'pending' AND channel_id = $1 ORDER BY id LIMIT 1`,
  pendingOfKind: `SELECT ${OUTBOX_COLUMNS} FROM outbox WHERE state = 'pending' AND channel_id = $1 AND kind = $2
    ORDER BY id`,
  channels: "SELECT DISTINCT channel_id FROM outbox WHERE state = 'pending' ORDER BY channel_id",
  attempt: `UPDATE outbox SET attempts = attempts + 1, first_attempt_at = COALESCE(first_attempt_at, $1),
    last_error = $2, next_attempt_at = $3 WHERE id = $4`,
  // Once: a second finisher (another node, a late retry) changes nothing.
  finish: `UPDATE outbox SET state = $1, matrix_event_id = COALESCE(matrix_event_id, $2),
    last_error = COALESCE($3, last_error), done_at = $4 WHERE id = $5 AND state = 'pending'`,
  stats: "SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM outbox WHERE state = 'pending'",
});

export function outboxQueries(db: Db): Async<OutboxStore> & { instanceId(): Promise<string> } {
  const entry = async (statement: typeof SQL.byId, key: number) => {
    const row = await db.first<OutboxRecord>(statement, [key]);
    return row && toOutboxEntry(row);
  };
  return {
    async instanceId() {
      const row = await db.first<{ value: string }>(SQL.instance);
      if (!row)
        throw new Error("the database has no instance id (meta 'instance'): were migrations applied?");
      return row.value;
    },
    async enqueueOutbox(e) {
      const row = await db.first<{ id: number }>(SQL.enqueue, [
        e.channelId,
        e.seq,
        e.kind,
        e.actor,
        JSON.stringify(e.payload),
        e.createdAt,
      ]);
      if (!row) throw new Error("an outbox entry was inserted without an id");
      return row.id;
    },
    outboxEntry: (id) => entry(SQL.byId, id),
    nextOutboxEntry: (channelId) => entry(SQL.next, channelId),
    pendingOutbox: async (channelId, kind) =>
      (await db.rows<OutboxRecord>(SQL.pendingOfKind, [channelId, kind])).map(toOutboxEntry),
    outboxChannels: async () =>
      (await db.rows<{ channel_id: number }>(SQL.channels)).map((r) => r.channel_id),
    async recordOutboxAttempt(id, at, error, nextAttemptAt) {
      await db.changes(SQL.attempt, [at, error, nextAttemptAt, id]);
    },
    async finishOutbox(id, state, matrixEventId, error, at) {
      await db.changes(SQL.finish, [state, matrixEventId, error, at, id]);
    },
    async outboxStats() {
      const row = await db.first<{ n: number; oldest: number | null }>(SQL.stats);
      return { pending: row?.n ?? 0, oldestCreatedAt: row?.oldest ?? null };
    },
  };
}
