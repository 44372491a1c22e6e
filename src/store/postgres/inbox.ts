// The durable transaction inbox.
import type { Async, InboxStore } from "../../domain/ports/store.ts";
import { type InboxRecord, toInboxEntry } from "../rows.ts";
import { type Db, named } from "./db.ts";

const SQL = named("inbox", {
  // One statement for the whole transaction; ids follow the events' order.
  insertInbox: `INSERT INTO inbox (matrix_event_id, room_id, body, received_at)
    SELECT e.id, e.room, e.body, $4 FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS e(id, room, body, n)
    ORDER BY e.n ON CONFLICT DO NOTHING`,
  pendingInbox:
    "SELECT id, matrix_event_id, room_id, body FROM inbox WHERE status = 'pending' ORDER BY id LIMIT $1",
  finishInbox: "UPDATE inbox SET status = $1, note = $2 WHERE id = $3",
  inboxStatus: "SELECT status, note FROM inbox WHERE matrix_event_id = $1",
  isKnown: `SELECT EXISTS (SELECT 1 FROM inbox WHERE matrix_event_id = $1)
    OR EXISTS (SELECT 1 FROM events WHERE matrix_event_id = $1) AS known`,
  prune: `WITH inbox_rows AS (DELETE FROM inbox WHERE status != 'pending' AND received_at < $1 RETURNING 1),
    txn_rows AS (DELETE FROM sent_txns WHERE created_at < $1 RETURNING 1),
    outbox_rows AS (DELETE FROM outbox WHERE state != 'pending' AND done_at < $1 RETURNING 1)
    SELECT (SELECT COUNT(*) FROM inbox_rows) + (SELECT COUNT(*) FROM txn_rows) + (SELECT COUNT(*) FROM outbox_rows) AS n`,
  stats: "SELECT COUNT(*) AS n, MIN(received_at) AS oldest FROM inbox WHERE status = 'pending'",
});

export function inboxQueries(db: Db): Async<InboxStore> {
  return {
    async recordInbox(events) {
      if (events.length === 0) return 0;
      return await db.changes(SQL.insertInbox, [
        events.map((e) => e.matrixEventId),
        events.map((e) => e.roomId),
        events.map((e) => JSON.stringify(e.body)),
        Date.now(),
      ]);
    },
    pendingInbox: async (limit) => (await db.rows<InboxRecord>(SQL.pendingInbox, [limit])).map(toInboxEntry),
    async finishInbox(id, outcome, note) {
      await db.changes(SQL.finishInbox, [outcome, note ?? null, id]);
    },
    inboxStatus: (matrixEventId) =>
      db.first<{ status: string; note: string | null }>(SQL.inboxStatus, [matrixEventId]),
    isKnownEvent: async (matrixEventId) =>
      (await db.first<{ known: boolean }>(SQL.isKnown, [matrixEventId]))?.known === true,
    pruneBefore: async (before) => (await db.first<{ n: number }>(SQL.prune, [before]))?.n ?? 0,
    async inboxStats() {
      const row = await db.first<{ n: number; oldest: number | null }>(SQL.stats);
      return { pending: row?.n ?? 0, oldestReceivedAt: row?.oldest ?? null };
    },
  };
}
