// Direct channels' members and users' blocks and ignores.
import type Database from "better-sqlite3";
import type { DirectStore } from "../../domain/ports/store.ts";
import { asUserId } from "../../protocol/ids.ts";
import { prepareAll } from "./prepare.ts";

const SQL = {
  clearDirect: "DELETE FROM direct_members WHERE channel_id = ?",
  addDirect: "INSERT INTO direct_members (channel_id, user_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
  directMembers: "SELECT user_id FROM direct_members WHERE channel_id = ? ORDER BY user_id",
  addControl:
    "INSERT INTO user_relations (user_id, other_id, relation, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
  removeControl: "DELETE FROM user_relations WHERE user_id = ? AND other_id = ? AND relation = ?",
  controlled:
    "SELECT other_id AS id FROM user_relations WHERE user_id = ? AND relation = ? ORDER BY created_at, other_id",
  controllersOf: "SELECT user_id AS id FROM user_relations WHERE other_id = ? AND relation = ?",
} as const;

export function directQueries(db: Database.Database): DirectStore {
  const q = prepareAll(db, SQL);
  const ids = (rows: unknown[]) =>
    (rows as Array<{ id?: string; user_id?: string }>).map((r) => asUserId(r.id ?? r.user_id ?? ""));
  const setDirectMembers = db.transaction((channelId: number, userIds: readonly string[]) => {
    q.clearDirect.run(channelId);
    for (const userId of userIds) q.addDirect.run(channelId, userId);
  });
  return {
    setDirectMembers: (channelId, userIds) => setDirectMembers(channelId, userIds),
    directMembers: (channelId) => ids(q.directMembers.all(channelId)),
    setControl(userId, other, kind, on) {
      if (on) q.addControl.run(userId, other, kind, Date.now());
      else q.removeControl.run(userId, other, kind);
    },
    controlled: (userId, kind) => ids(q.controlled.all(userId, kind)),
    controllersOf: (other, kind) => ids(q.controllersOf.all(other, kind)),
  };
}
