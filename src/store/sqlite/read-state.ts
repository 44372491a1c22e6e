// Read pointers and mention notifications per user and channel.
import type Database from "better-sqlite3";
import type { ReadStore } from "../../domain/ports/store.ts";
import { prepareAll } from "./prepare.ts";

const SQL = {
  readPointers: "SELECT channel_id, seq FROM read_pointers WHERE user_id = ?",
  readPointer: "SELECT seq FROM read_pointers WHERE user_id = ? AND channel_id = ?",
  advanceReadPointer: `INSERT INTO read_pointers (user_id, channel_id, seq, updated_at) VALUES (?, ?, ?, ?)
    ON CONFLICT (user_id, channel_id) DO UPDATE SET seq = excluded.seq, updated_at = excluded.updated_at
    WHERE excluded.seq > read_pointers.seq`,
  addNotification:
    "INSERT INTO notifications (user_id, channel_id, seq) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
  clearNotifications: "DELETE FROM notifications WHERE user_id = ? AND channel_id = ? AND seq <= ?",
  notificationCounts:
    "SELECT channel_id, COUNT(*) AS n FROM notifications WHERE user_id = ? GROUP BY channel_id",
} as const;

export function readStateQueries(db: Database.Database): ReadStore {
  const q = prepareAll(db, SQL);
  return {
    readPointers: (userId) =>
      (q.readPointers.all(userId) as Array<{ channel_id: number; seq: number }>).map((r) => ({
        channelId: r.channel_id,
        seq: r.seq,
      })),
    readPointer: (userId, channelId) =>
      (q.readPointer.get(userId, channelId) as { seq: number } | undefined)?.seq,
    advanceReadPointer: (userId, channelId, seq, at) =>
      q.advanceReadPointer.run(userId, channelId, seq, at).changes > 0,
    addNotification(userId, channelId, seq) {
      q.addNotification.run(userId, channelId, seq);
    },
    clearNotifications(userId, channelId, seq) {
      q.clearNotifications.run(userId, channelId, seq);
    },
    notificationCounts: (userId) =>
      (q.notificationCounts.all(userId) as Array<{ channel_id: number; n: number }>).map((r) => ({
        channelId: r.channel_id,
        count: r.n,
      })),
  };
}
