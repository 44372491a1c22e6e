// The per-channel event log, how far backfill from the homeserver has gone, and what clients'
// txn_ids produced (so a retry answers with the original event). Seqs come from event_seqs (see
// 001_initial.sql): appending takes the channel's row, so the nodes writing one channel queue on
// it and seqs stay gapless and increasing however many write at once.
import type { Async, EventStore, NewEvent, StoredEvent } from "../../domain/ports/store.ts";
import { asEventSeq, type EventSeq } from "../../protocol/ids.ts";
import { appendedEvent, EVENT_COLUMNS, type EventRecord, newEventValues, toEvent } from "../rows.ts";
import { type Db, named } from "./db.ts";

const DELETED = '{"type":"deleted"}';

const SQL = named("events", {
  // The next seq, holding the channel's row until the transaction ends. A channel's first append
  // starts above whatever is logged (history prepended before it).
  takeSeq: `INSERT INTO event_seqs AS s (channel_id, last_seq)
    VALUES ($1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM events WHERE channel_id = $1))
    ON CONFLICT (channel_id) DO UPDATE SET last_seq = s.last_seq + 1 RETURNING last_seq`,
  // Gives back a seq taken by this transaction (whose row it still holds) and not used.
  returnSeq: "UPDATE event_seqs SET last_seq = last_seq - 1 WHERE channel_id = $1",
  // Holds the channel's row without taking a seq: prepending waits for other writers too.
  holdSeqs: `INSERT INTO event_seqs AS s (channel_id, last_seq)
    VALUES ($1, (SELECT COALESCE(MAX(seq), 0) FROM events WHERE channel_id = $1))
    ON CONFLICT (channel_id) DO UPDATE SET last_seq = s.last_seq`,
  maxSeq: "SELECT COALESCE(MAX(seq), 0) AS seq FROM events WHERE channel_id = $1",
  minSeq: "SELECT MIN(seq) AS seq FROM events WHERE channel_id = $1",
  insertEvent: `INSERT INTO events (channel_id, seq, matrix_event_id, event_type, sender, content, ts, reply_to, replaces, pending_review)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (matrix_event_id) DO NOTHING`,
  replaceContent: "UPDATE events SET content = $1, edited = true WHERE channel_id = $2 AND seq = $3",
  // The message and its edits at once; only the message counts as edited.
  deleteContent: `UPDATE events SET content = $3, edited = (edited OR seq = $2)
    WHERE channel_id = $1 AND (seq = $2 OR replaces = $2)`,
  // Conditional: says whether this mark is the one that ended the hold (another node's waits on the row).
  releaseReview:
    "UPDATE events SET pending_review = false WHERE channel_id = $1 AND seq = $2 AND pending_review",
  setNsfw: "UPDATE events SET nsfw = $3 WHERE channel_id = $1 AND seq = $2",
  eventByMatrixId: `SELECT ${EVENT_COLUMNS} FROM events WHERE matrix_event_id = $1`,
  eventBySeq: `SELECT ${EVENT_COLUMNS} FROM events WHERE channel_id = $1 AND seq = $2`,
  // Paging back: the newest `count` below `before`, returned newest first and reversed in code.
  pageBack: `SELECT ${EVENT_COLUMNS} FROM events WHERE channel_id = $1 AND seq > $2 AND seq < $3 ORDER BY seq DESC LIMIT $4`,
  pageForward: `SELECT ${EVENT_COLUMNS} FROM events WHERE channel_id = $1 AND seq > $2 AND seq < $3 ORDER BY seq LIMIT $4`,
  oldestMirrored: `SELECT ${EVENT_COLUMNS} FROM events WHERE channel_id = $1 AND matrix_event_id IS NOT NULL
    ORDER BY seq LIMIT 1`,
  newest: `SELECT ${EVENT_COLUMNS} FROM events WHERE channel_id = $1 ORDER BY seq DESC LIMIT 1`,
  latestMessageSeq:
    "SELECT COALESCE(MAX(seq), 0) AS seq FROM events WHERE channel_id = $1 AND event_type = 'channel.message'",
  // ILIKE: SQLite's LIKE ignores ASCII case.
  postsWithMedia: `SELECT ${EVENT_COLUMNS} FROM events WHERE channel_id = $1 AND seq < $2 AND event_type = 'channel.message'
    AND replaces IS NULL AND (content ILIKE '%"type":"files"%' OR content ILIKE '%http://%' OR content ILIKE '%https://%')
    ORDER BY seq DESC LIMIT $3`,
  backfill: "SELECT backfill_token, backfill_done FROM channels WHERE id = $1",
  setBackfill: "UPDATE channels SET backfill_token = $1, backfill_done = $2 WHERE id = $3",
  sentTxn: "SELECT seq FROM sent_txns WHERE user_id = $1 AND channel_id = $2 AND txn_id = $3",
  recordSentTxn: `INSERT INTO sent_txns (user_id, channel_id, txn_id, seq, created_at) VALUES ($1, $2, $3, $4, $5)
    ON CONFLICT DO NOTHING`,
  setEventMatrixId:
    "UPDATE events SET matrix_event_id = $1 WHERE channel_id = $2 AND seq = $3 AND matrix_event_id IS NULL",
});

export function eventQueries(db: Db): Async<EventStore> {
  const seqOf = async (statement: typeof SQL.maxSeq, channelId: number) =>
    (await db.first<{ seq: number | null }>(statement, [channelId]))?.seq ?? null;
  const event = async (statement: typeof SQL.eventBySeq, ...values: Array<string | number>) => {
    const row = await db.first<EventRecord>(statement, values);
    return row && toEvent(row);
  };
  const events = async (statement: typeof SQL.pageBack, ...values: number[]) =>
    (await db.rows<EventRecord>(statement, values)).map(toEvent);

  const insertAt = async (event: NewEvent, seq: EventSeq): Promise<StoredEvent | undefined> =>
    (await db.changes(SQL.insertEvent, newEventValues(event, seq, "postgres"))) === 0
      ? undefined
      : appendedEvent(event, seq);

  return {
    // Inside the caller's transaction, the row stays held until it ends; alone it would be released
    // at once (harmless).
    holdChannelLog: async (channelId) => {
      await db.changes(SQL.holdSeqs, [channelId]);
    },
    appendEvent: (event) =>
      db.atomic(async () => {
        const taken = await db.first<{ last_seq: number }>(SQL.takeSeq, [event.channelId]);
        if (!taken) throw new Error(`no seq for channel ${event.channelId}`);
        const appended = await insertAt(event, asEventSeq(taken.last_seq));
        // That Matrix event is logged already: its seq goes back before anyone else can take one.
        if (!appended) await db.changes(SQL.returnSeq, [event.channelId]);
        return appended;
      }),
    prependEvent: (event) =>
      db.atomic(async () => {
        await db.changes(SQL.holdSeqs, [event.channelId]);
        const min = await seqOf(SQL.minSeq, event.channelId);
        return await insertAt(event, asEventSeq((min ?? 1) - 1));
      }),
    eventByMatrixId: (matrixEventId) => event(SQL.eventByMatrixId, matrixEventId),
    eventBySeq: (channelId, seq) => event(SQL.eventBySeq, channelId, seq),
    nextSeq: async (channelId) => asEventSeq(((await seqOf(SQL.maxSeq, channelId)) ?? 0) + 1),
    async eventsBetween(channelId, range, count, newest) {
      const after = range.after ?? Number.MIN_SAFE_INTEGER;
      const before = range.before ?? Number.MAX_SAFE_INTEGER;
      if (newest) return (await events(SQL.pageBack, channelId, after, before, count)).reverse();
      return await events(SQL.pageForward, channelId, after, before, count);
    },
    oldestMirroredEvent: (channelId) => event(SQL.oldestMirrored, channelId),
    newestEvent: (channelId) => event(SQL.newest, channelId),
    postsWithMedia: (channelId, beforeSeq, count) =>
      events(SQL.postsWithMedia, channelId, beforeSeq ?? Number.MAX_SAFE_INTEGER, count),
    latestMessageSeq: async (channelId) => (await seqOf(SQL.latestMessageSeq, channelId)) ?? 0,
    async replaceContent(channelId, seq, content) {
      await db.changes(SQL.replaceContent, [JSON.stringify(content), channelId, seq]);
    },
    async deleteContent(channelId, seq, recipients) {
      const deleted = recipients ? JSON.stringify({ type: "deleted", to: recipients }) : DELETED;
      await db.changes(SQL.deleteContent, [channelId, seq, deleted]);
    },
    markMedia: (channelId, seq, nsfw) =>
      db.atomic(async () => {
        const released = (await db.changes(SQL.releaseReview, [channelId, seq])) > 0;
        await db.changes(SQL.setNsfw, [channelId, seq, nsfw]);
        return released;
      }),
    async backfill(channelId) {
      const row = await db.first<{ backfill_token: string | null; backfill_done: boolean }>(SQL.backfill, [
        channelId,
      ]);
      return { token: row?.backfill_token ?? null, done: row?.backfill_done === true };
    },
    async setBackfill(channelId, state) {
      await db.changes(SQL.setBackfill, [state.token, state.done, channelId]);
    },
    async sentTxn(userId, channelId, txnId) {
      const row = await db.first<{ seq: number }>(SQL.sentTxn, [userId, channelId, txnId]);
      return row && asEventSeq(row.seq);
    },
    recordSentTxn: async (userId, channelId, txnId, seq) =>
      (await db.changes(SQL.recordSentTxn, [userId, channelId, txnId, seq, Date.now()])) > 0,
    async setEventMatrixId(channelId, seq, matrixEventId) {
      await db.changes(SQL.setEventMatrixId, [matrixEventId, channelId, seq]);
    },
  };
}
