// The durable transaction inbox.
import type Database from "better-sqlite3";
import type { InboxStore } from "../../domain/ports/store.ts";
import { type InboxRecord, toInboxEntry } from "../rows.ts";
import { prepareAll } from "./prepare.ts";

const SQL = {
  insertInbox:
    "INSERT INTO inbox (matrix_event_id, room_id, body, received_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
  pendingInbox:
    "SELECT id, matrix_event_id, room_id, body FROM inbox WHERE status = 'pending' ORDER BY id LIMIT ?",
  finishInbox: "UPDATE inbox SET status = ?, note = ? WHERE id = ?",
  inInbox: "SELECT 1 FROM inbox WHERE matrix_event_id = ?",
  inboxStatus: "SELECT status, note FROM inbox WHERE matrix_event_id = ?",
  inLog: "SELECT 1 FROM events WHERE matrix_event_id = ?",
  pruneInbox: "DELETE FROM inbox WHERE status != 'pending' AND received_at < ?",
  pruneSentTxns: "DELETE FROM sent_txns WHERE created_at < ?",
  pruneOutbox: "DELETE FROM outbox WHERE state != 'pending' AND done_at < ?",
  stats: "SELECT COUNT(*) AS n, MIN(received_at) AS oldest FROM inbox WHERE status = 'pending'",
} as const;

export function inboxQueries(db: Database.Database): InboxStore {
  const q = prepareAll(db, SQL);
  const recordInbox = db.transaction(
    (events: ReadonlyArray<{ matrixEventId: string; roomId: string; body: unknown }>): number => {
      const now = Date.now();
      let added = 0;
      for (const e of events)
        added += q.insertInbox.run(e.matrixEventId, e.roomId, JSON.stringify(e.body), now).changes;
      return added;
    },
  );
  return {
    recordInbox: (events) => recordInbox(events),
    pendingInbox: (limit) => (q.pendingInbox.all(limit) as InboxRecord[]).map(toInboxEntry),
    finishInbox(id, outcome, note) {
      q.finishInbox.run(outcome, note ?? null, id);
    },
    inboxStatus: (matrixEventId) =>
      q.inboxStatus.get(matrixEventId) as { status: string; note: string | null } | undefined,
    isKnownEvent: (matrixEventId) =>
      q.inInbox.get(matrixEventId) !== undefined || q.inLog.get(matrixEventId) !== undefined,
    pruneBefore: (before) =>
      q.pruneInbox.run(before).changes +
      q.pruneSentTxns.run(before).changes +
      q.pruneOutbox.run(before).changes,
    inboxStats() {
      const row = q.stats.get() as { n: number; oldest: number | null };
      return { pending: row.n, oldestReceivedAt: row.oldest };
    },
  };
}
