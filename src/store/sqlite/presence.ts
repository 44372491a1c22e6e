// Users' chosen or reported presence.
import type Database from "better-sqlite3";
import type { PresenceStore } from "../../domain/ports/store.ts";
import { asUserId, type UserId } from "../../protocol/ids.ts";
import { prepareAll } from "./prepare.ts";

const SQL = {
  set: `INSERT INTO user_presence (user_id, status, updated_at) VALUES (?, ?, ?)
    ON CONFLICT (user_id) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at`,
  one: "SELECT user_id, status, updated_at FROM user_presence WHERE user_id = ?",
} as const;

interface Row {
  user_id: string;
  status: string;
  updated_at: number;
}

export function presenceQueries(db: Database.Database): PresenceStore {
  const q = prepareAll(db, SQL);
  return {
    setPresence(userId, status, at) {
      q.set.run(userId, status, at);
    },
    presenceOf(userIds) {
      const found = new Map<UserId, { status: string; at: number }>();
      for (const userId of new Set(userIds)) {
        const row = q.one.get(userId) as Row | undefined;
        if (row) found.set(asUserId(row.user_id), { status: row.status, at: row.updated_at });
      }
      return found;
    },
  };
}
