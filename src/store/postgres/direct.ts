// Direct channels' members and users' blocks and ignores.
import type { Async, DirectStore } from "../../domain/ports/store.ts";
import { asUserId } from "../../protocol/ids.ts";
import { type Db, named } from "./db.ts";

const SQL = named("direct", {
  // Replacing a channel's set holds its channel row, so two replacements do not merge.
  holdChannel: "SELECT 1 FROM channels WHERE id = $1 FOR NO KEY UPDATE",
  clearDirect: "DELETE FROM direct_members WHERE channel_id = $1",
  addDirect: `INSERT INTO direct_members (channel_id, user_id) SELECT $1, unnest($2::text[])
    ON CONFLICT DO NOTHING`,
  directMembers: `SELECT user_id AS id FROM direct_members WHERE channel_id = $1 ORDER BY user_id COLLATE "C"`,
  addControl: `INSERT INTO user_relations (user_id, other_id, relation, created_at) VALUES ($1, $2, $3, $4)
    ON CONFLICT DO NOTHING`,
  removeControl: "DELETE FROM user_relations WHERE user_id = $1 AND other_id = $2 AND relation = $3",
  controlled: `SELECT other_id AS id FROM user_relations WHERE user_id = $1 AND relation = $2
    ORDER BY created_at, other_id COLLATE "C"`,
  controllersOf: `SELECT user_id AS id FROM user_relations WHERE other_id = $1 AND relation = $2
    ORDER BY user_id COLLATE "C"`,
});

export function directQueries(db: Db): Async<DirectStore> {
  const ids = async (statement: typeof SQL.controlled, values: Array<string | number>) =>
    (await db.rows<{ id: string }>(statement, values)).map((r) => asUserId(r.id));
  return {
    setDirectMembers: (channelId, userIds) =>
      db.atomic(async () => {
        await db.changes(SQL.holdChannel, [channelId]);
        await db.changes(SQL.clearDirect, [channelId]);
        if (userIds.length > 0) await db.changes(SQL.addDirect, [channelId, userIds]);
      }),
    directMembers: (channelId) => ids(SQL.directMembers, [channelId]),
    async setControl(userId, other, kind, on) {
      if (on) await db.changes(SQL.addControl, [userId, other, kind, Date.now()]);
      else await db.changes(SQL.removeControl, [userId, other, kind]);
    },
    controlled: (userId, kind) => ids(SQL.controlled, [userId, kind]),
    controllersOf: (other, kind) => ids(SQL.controllersOf, [other, kind]),
  };
}
