// Users' chosen or reported presence.
import type { Async, PresenceStore } from "../../domain/ports/store.ts";
import { asUserId, type UserId } from "../../protocol/ids.ts";
import { type Db, named } from "./db.ts";

const SQL = named("presence", {
  set: `INSERT INTO user_presence (user_id, status, updated_at) VALUES ($1, $2, $3)
    ON CONFLICT (user_id) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at`,
  many: "SELECT user_id, status, updated_at FROM user_presence WHERE user_id = ANY($1)",
});

interface Row {
  user_id: string;
  status: string;
  updated_at: number;
}

export function presenceQueries(db: Db): Async<PresenceStore> {
  return {
    async setPresence(userId, status, at) {
      await db.changes(SQL.set, [userId, status, at]);
    },
    async presenceOf(userIds) {
      const found = new Map<UserId, { status: string; at: number }>();
      if (userIds.length === 0) return found;
      for (const row of await db.rows<Row>(SQL.many, [[...new Set(userIds)]])) {
        found.set(asUserId(row.user_id), { status: row.status, at: row.updated_at });
      }
      return found;
    },
  };
}
