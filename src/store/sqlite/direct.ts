// Direct channels' members and users' blocks and ignores.
import type Database from "better-sqlite3";
import type { DirectStore } from "../../domain/store-port.ts";
import { asUserId } from "../../protocol/ids.ts";
import { prepareAll } from "./prepare.ts";

const SQL = {
  clearDirect: "DELETE FROM direct_members WHERE channel_id = ?",
  addDirect: "INSERT INTO direct_members (channel_id, user_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
  directMembers: "SELECT user_id FROM direct_members WHERE channel_id = ? ORDER BY user_id",
  addRelation:
    "INSERT INTO user_relations (user_id, other_id, relation, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
  removeRelation: "DELETE FROM user_relations WHERE user_id = ? AND other_id = ? AND relation = ?",
  related:
    "SELECT other_id AS id FROM user_relations WHERE user_id = ? AND relation = ? ORDER BY created_at, other_id",
  relatedTo: "SELECT user_id AS id FROM user_relations WHERE other_id = ? AND relation = ?",
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
    setRelation(userId, other, relation, on) {
      if (on) q.addRelation.run(userId, other, relation, Date.now());
      else q.removeRelation.run(userId, other, relation);
    },
    related: (userId, relation) => ids(q.related.all(userId, relation)),
    relatedTo: (other, relation) => ids(q.relatedTo.all(other, relation)),
  };
}
