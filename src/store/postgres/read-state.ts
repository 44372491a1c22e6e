// Read pointers and mention notifications per user and channel.
import type { Async, ReadStore } from "../../domain/ports/store.ts";
import { type Db, named } from "./db.ts";

const SQL = named("read", {
  readPointers: "SELECT channel_id, seq FROM read_pointers WHERE user_id = $1 ORDER BY channel_id",
  readPointer: "SELECT seq FROM read_pointers WHERE user_id = $1 AND channel_id = $2",
  // Only forward, decided by the row as it is when the write lands: no lost race between nodes.
  advanceReadPointer: `INSERT INTO read_pointers AS p (user_id, channel_id, seq, updated_at) VALUES ($1, $2, $3, $4)
    ON CONFLICT (user_id, channel_id) DO UPDATE SET seq = excluded.seq, updated_at = excluded.updated_at
    WHERE excluded.seq > p.seq`,
  addNotification:
    "INSERT INTO notifications (user_id, channel_id, seq) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
  clearNotifications: "DELETE FROM notifications WHERE user_id = $1 AND channel_id = $2 AND seq <= $3",
  notificationCounts: `SELECT channel_id, COUNT(*) AS n FROM notifications WHERE user_id = $1
    GROUP BY channel_id ORDER BY channel_id`,
});

export function readStateQueries(db: Db): Async<ReadStore> {
  return {
    readPointers: async (userId) =>
      (await db.rows<{ channel_id: number; seq: number }>(SQL.readPointers, [userId])).map((r) => ({
        channelId: r.channel_id,
        seq: r.seq,
      })),
    readPointer: async (userId, channelId) =>
      (await db.first<{ seq: number }>(SQL.readPointer, [userId, channelId]))?.seq,
    advanceReadPointer: async (userId, channelId, seq, at) =>
      (await db.changes(SQL.advanceReadPointer, [userId, channelId, seq, at])) > 0,
    async addNotification(userId, channelId, seq) {
      await db.changes(SQL.addNotification, [userId, channelId, seq]);
    },
    async clearNotifications(userId, channelId, seq) {
      await db.changes(SQL.clearNotifications, [userId, channelId, seq]);
    },
    notificationCounts: async (userId) =>
      (await db.rows<{ channel_id: number; n: number }>(SQL.notificationCounts, [userId])).map((r) => ({
        channelId: r.channel_id,
        count: r.n,
      })),
  };
}
