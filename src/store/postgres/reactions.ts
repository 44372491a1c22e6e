// Reactions per message: who reacted with what.
import type { Async, ReactionStore } from "../../domain/ports/store.ts";
import { REACTION_COLUMNS, type ReactionRecord, summarizeReactions, toReaction } from "../rows.ts";
import { type Db, named } from "./db.ts";

const KEY = "channel_id = $1 AND target_seq = $2 AND user_id = $3 AND reaction = $4";
const SQL = named("reactions", {
  addReaction: `INSERT INTO reactions (${REACTION_COLUMNS}, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
    ON CONFLICT DO NOTHING`,
  findReaction: `SELECT ${REACTION_COLUMNS} FROM reactions WHERE ${KEY}`,
  // Whoever removes it gets the row; a concurrent second removal gets nothing.
  removeReaction: `DELETE FROM reactions WHERE ${KEY} RETURNING ${REACTION_COLUMNS}`,
  setReactionMatrixId:
    "UPDATE reactions SET matrix_event_id = $1 WHERE outbox_id = $2 AND matrix_event_id IS NULL",
  setReactionOutbox: `UPDATE reactions SET outbox_id = $5 WHERE ${KEY}`,
  reactionByMatrixId: `SELECT ${REACTION_COLUMNS} FROM reactions WHERE matrix_event_id = $1`,
  // One range query per page instead of one per message: a fetched page is a contiguous seq range.
  reactionsIn: `SELECT ${REACTION_COLUMNS} FROM reactions WHERE channel_id = $1 AND target_seq BETWEEN $2 AND $3
    ORDER BY created_at, ordinal`,
});

export function reactionQueries(db: Db): Async<ReactionStore> {
  const one = async (statement: typeof SQL.findReaction, values: Array<string | number>) => {
    const row = await db.first<ReactionRecord>(statement, values);
    return row && toReaction(row);
  };
  return {
    addReaction: async (r) =>
      (await db.changes(SQL.addReaction, [
        r.channelId,
        r.targetSeq,
        r.userId,
        r.reaction,
        r.matrixEventId,
        r.outboxId ?? null,
        Date.now(),
      ])) > 0,
    removeReaction: (channelId, targetSeq, userId, reaction) =>
      one(SQL.removeReaction, [channelId, targetSeq, userId, reaction]),
    findReaction: (channelId, targetSeq, userId, reaction) =>
      one(SQL.findReaction, [channelId, targetSeq, userId, reaction]),
    reactionByMatrixId: (matrixEventId) => one(SQL.reactionByMatrixId, [matrixEventId]),
    async setReactionMatrixId(outboxId, matrixEventId) {
      await db.changes(SQL.setReactionMatrixId, [matrixEventId, outboxId]);
    },
    async setReactionOutbox(channelId, targetSeq, userId, reaction, outboxId) {
      await db.changes(SQL.setReactionOutbox, [channelId, targetSeq, userId, reaction, outboxId]);
    },
    async reactionSummaries(channelId, targetSeqs) {
      if (targetSeqs.length === 0) return new Map();
      const wanted = new Set(targetSeqs);
      const range = [channelId, Math.min(...wanted), Math.max(...wanted)];
      return summarizeReactions(await db.rows<ReactionRecord>(SQL.reactionsIn, range), wanted);
    },
  };
}
