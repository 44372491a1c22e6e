// The per-channel event log, how far backfill from the homeserver has gone, and what clients'
// txn_ids produced (so a retry answers with the original event).
import type Database from "better-sqlite3";
import type { EventStore, NewEvent, StoredEvent } from "../../domain/ports/store.ts";
import { asEventSeq, type EventSeq } from "../../protocol/ids.ts";
import { appendedEvent, EVENT_COLUMNS, type EventRecord, newEventValues, toEvent } from "../rows.ts";
import { prepareAll } from "./prepare.ts";

const SQL = {
  maxSeq: "SELECT COALESCE(MAX(seq), 0) AS seq FROM events WHERE channel_id = ?",
  minSeq: "SELECT MIN(seq) AS seq FROM events WHERE channel_id = ?",
  insertEvent: `INSERT INTO events (channel_id, seq, matrix_event_id, event_type, sender, content, ts, reply_to, replaces, pending_review)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (matrix_event_id) DO NOTHING`,
  replaceContent: "UPDATE events SET content = ?, edited = 1 WHERE channel_id = ? AND seq = ?",
  deleteEdits: "UPDATE events SET content = ? WHERE channel_id = ? AND replaces = ?",
  // Conditional: says whether this mark is the one that ended the hold.
  releaseReview:
    "UPDATE events SET pending_review = 0 WHERE channel_id = ? AND seq = ? AND pending_review = 1",
  setNsfw: "UPDATE events SET nsfw = ? WHERE channel_id = ? AND seq = ?",
  eventByMatrixId: `SELECT ${EVENT_COLUMNS} FROM events WHERE matrix_event_id = ?`,
  eventBySeq: `SELECT ${EVENT_COLUMNS} FROM events WHERE channel_id = ? AND seq = ?`,
  // Paging back: the newest `count` below `before`, returned newest first and reversed in code.
  pageBack: `SELECT ${EVENT_COLUMNS} FROM events WHERE channel_id = ? AND seq > ? AND seq < ? ORDER BY seq DESC LIMIT ?`,
  pageForward: `SELECT ${EVENT_COLUMNS} FROM events WHERE channel_id = ? AND seq > ? AND seq < ? ORDER BY seq LIMIT ?`,
  oldestMirrored: `SELECT ${EVENT_COLUMNS} FROM events WHERE channel_id = ? AND matrix_event_id IS NOT NULL
    ORDER BY seq LIMIT 1`,
  newest: `SELECT ${EVENT_COLUMNS} FROM events WHERE channel_id = ? ORDER BY seq DESC LIMIT 1`,
  latestMessageSeq:
    "SELECT COALESCE(MAX(seq), 0) AS seq FROM events WHERE channel_id = ? AND event_type = 'channel.message'",
  postsWithMedia: `SELECT ${EVENT_COLUMNS} FROM events WHERE channel_id = ? AND seq < ? AND event_type = 'channel.message'
    AND replaces IS NULL AND (content LIKE '%"type":"files"%' OR content LIKE '%http://%' OR content LIKE '%https://%')
    ORDER BY seq DESC LIMIT ?`,
  backfill: "SELECT backfill_token, backfill_done FROM channels WHERE id = ?",
  setBackfill: "UPDATE channels SET backfill_token = ?, backfill_done = ? WHERE id = ?",
  sentTxn: "SELECT seq FROM sent_txns WHERE user_id = ? AND channel_id = ? AND txn_id = ?",
  recordSentTxn:
    "INSERT INTO sent_txns (user_id, channel_id, txn_id, seq, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
  setEventMatrixId:
    "UPDATE events SET matrix_event_id = ? WHERE channel_id = ? AND seq = ? AND matrix_event_id IS NULL",
} as const;

export function eventQueries(db: Database.Database): EventStore {
  const q = prepareAll(db, SQL);
  const nextSeq = (channelId: number): EventSeq =>
    asEventSeq((q.maxSeq.get(channelId) as { seq: number }).seq + 1);
  const optional = (row: unknown) => (row === undefined ? undefined : toEvent(row as EventRecord));

  const insertAt = (event: NewEvent, seq: EventSeq): StoredEvent | undefined =>
    q.insertEvent.run(...newEventValues(event, seq, "sqlite")).changes === 0
      ? undefined
      : appendedEvent(event, seq);
  const appendEvent = db.transaction((event: NewEvent) => insertAt(event, nextSeq(event.channelId)));
  const prependEvent = db.transaction((event: NewEvent) => {
    const min = (q.minSeq.get(event.channelId) as { seq: number | null }).seq;
    return insertAt(event, asEventSeq((min ?? 1) - 1));
  });

  return {
    // One SQLite connection runs one transaction at a time: the log is held already.
    holdChannelLog: () => undefined,
    appendEvent: (event) => appendEvent(event),
    prependEvent: (event) => prependEvent(event),
    eventByMatrixId: (matrixEventId) => optional(q.eventByMatrixId.get(matrixEventId)),
    eventBySeq: (channelId, seq) => optional(q.eventBySeq.get(channelId, seq)),
    nextSeq,
    eventsBetween(channelId, range, count, newest) {
      const after = range.after ?? Number.MIN_SAFE_INTEGER;
      const before = range.before ?? Number.MAX_SAFE_INTEGER;
      if (newest)
        return (q.pageBack.all(channelId, after, before, count) as EventRecord[]).map(toEvent).reverse();
      return (q.pageForward.all(channelId, after, before, count) as EventRecord[]).map(toEvent);
    },
    oldestMirroredEvent: (channelId) => optional(q.oldestMirrored.get(channelId)),
    newestEvent: (channelId) => optional(q.newest.get(channelId)),
    postsWithMedia: (channelId, beforeSeq, count) =>
      (q.postsWithMedia.all(channelId, beforeSeq ?? Number.MAX_SAFE_INTEGER, count) as EventRecord[]).map(
        toEvent,
      ),
    latestMessageSeq: (channelId) => (q.latestMessageSeq.get(channelId) as { seq: number }).seq,
    replaceContent(channelId, seq, content) {
      q.replaceContent.run(JSON.stringify(content), channelId, seq);
    },
    deleteContent(channelId, seq, recipients) {
      const deleted = JSON.stringify(recipients ? { type: "deleted", to: recipients } : { type: "deleted" });
      q.replaceContent.run(deleted, channelId, seq);
      q.deleteEdits.run(deleted, channelId, seq);
    },
    markMedia(channelId, seq, nsfw) {
      const released = q.releaseReview.run(channelId, seq).changes > 0;
      q.setNsfw.run(nsfw ? 1 : 0, channelId, seq);
      return released;
    },
    backfill(channelId) {
      const row = q.backfill.get(channelId) as
        | { backfill_token: string | null; backfill_done: number }
        | undefined;
      return { token: row?.backfill_token ?? null, done: row?.backfill_done === 1 };
    },
    setBackfill(channelId, state) {
      q.setBackfill.run(state.token, state.done ? 1 : 0, channelId);
    },
    sentTxn(userId, channelId, txnId) {
      const row = q.sentTxn.get(userId, channelId, txnId) as { seq: number } | undefined;
      return row && asEventSeq(row.seq);
    },
    recordSentTxn(userId, channelId, txnId, seq) {
      return q.recordSentTxn.run(userId, channelId, txnId, seq, Date.now()).changes > 0;
    },
    setEventMatrixId(channelId, seq, matrixEventId) {
      q.setEventMatrixId.run(matrixEventId, channelId, seq);
    },
  };
}
