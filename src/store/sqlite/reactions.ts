// Reactions per message: who reacted with what.
import type Database from "better-sqlite3";
import type { ReactionStore } from "../../domain/ports/store.ts";
import { REACTION_COLUMNS, type ReactionRecord, summarizeReactions, toReaction } from "../rows.ts";
import { prepareAll } from "./prepare.ts";

const SQL = {
  addReaction: `INSERT INTO reactions (${REACTION_COLUMNS}, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
  findReaction: `SELECT ${REACTION_COLUMNS} FROM reactions WHERE channel_id = ? AND target_seq = ? AND user_id = ? AND reaction = ?`,
  deleteReaction:
    "DELETE FROM reactions WHERE channel_id = ? AND target_seq = ? AND user_id = ? AND reaction = ?",
  setReactionMatrixId:
    "UPDATE reactions SET matrix_event_id = ? WHERE outbox_id = ? AND matrix_event_id IS NULL",
  setReactionOutbox: `UPDATE reactions SET outbox_id = ?
    WHERE channel_id = ? AND target_seq = ? AND user_id = ? AND reaction = ?`,
  reactionByMatrixId: `SELECT ${REACTION_COLUMNS} FROM reactions WHERE matrix_event_id = ?`,
  // One range query per page instead of one per message: a fetched page is a contiguous seq range.
  reactionsIn: `SELECT ${REACTION_COLUMNS} FROM reactions WHERE channel_id = ? AND target_seq BETWEEN ? AND ?
    ORDER BY created_at, rowid`,
} as const;

export function reactionQueries(db: Database.Database): ReactionStore {
  const q = prepareAll(db, SQL);
  return {
    addReaction: (r) =>
      q.addReaction.run(
        r.channelId,
        r.targetSeq,
        r.userId,
        r.reaction,
        r.matrixEventId,
        r.outboxId ?? null,
        Date.now(),
      ).changes > 0,
    removeReaction(channelId, targetSeq, userId, reaction) {
      const row = q.findReaction.get(channelId, targetSeq, userId, reaction) as ReactionRecord | undefined;
      if (!row) return undefined;
      q.deleteReaction.run(channelId, targetSeq, userId, reaction);
      return toReaction(row);
    },
    findReaction(channelId, targetSeq, userId, reaction) {
      const row = q.findReaction.get(channelId, targetSeq, userId, reaction) as ReactionRecord | undefined;
      return row && toReaction(row);
    },
    reactionByMatrixId(matrixEventId) {
      const row = q.reactionByMatrixId.get(matrixEventId) as ReactionRecord | undefined;
      return row && toReaction(row);
    },
    setReactionMatrixId(outboxId, matrixEventId) {
      q.setReactionMatrixId.run(matrixEventId, outboxId);
    },
    setReactionOutbox(channelId, targetSeq, userId, reaction, outboxId) {
      q.setReactionOutbox.run(outboxId, channelId, targetSeq, userId, reaction);
    },
    reactionSummaries(channelId, targetSeqs) {
      if (targetSeqs.length === 0) return new Map();
      const wanted = new Set(targetSeqs);
      const rows = q.reactionsIn.all(channelId, Math.min(...wanted), Math.max(...wanted)) as ReactionRecord[];
      return summarizeReactions(rows, wanted);
    },
  };
}
