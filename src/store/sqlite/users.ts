// Native users and their registered puppets.
import type Database from "better-sqlite3";
import type { NativeUserRow, UserStore } from "../../domain/ports/store.ts";
import { asUserId, type UserId } from "../../protocol/ids.ts";
import { containsPattern, NATIVE_USER_COLUMNS, type NativeUserRecord, toNativeUser } from "../rows.ts";
import { prepareAll } from "./prepare.ts";

const SQL = {
  nativeUser: `SELECT ${NATIVE_USER_COLUMNS} FROM native_users WHERE user_id = ?`,
  insertNativeUser:
    "INSERT INTO native_users (user_id, localpart, is_guest, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
  setNativeProfile: "UPDATE native_users SET display_name = ?, avatar_url = ? WHERE user_id = ?",
  setMatrixDisplayName: "UPDATE native_users SET matrix_display_name = ? WHERE user_id = ?",
  isPuppetRegistered: "SELECT 1 FROM registered_puppets WHERE user_id = ?",
  search: `SELECT ${NATIVE_USER_COLUMNS} FROM native_users WHERE is_guest = 0
    AND localpart NOT GLOB 'api-*' AND localpart NOT GLOB 'hook-*'
    AND (localpart LIKE ? ESCAPE '\\' OR display_name LIKE ? ESCAPE '\\') ORDER BY localpart LIMIT ?`,
  addRegisteredPuppet: "INSERT INTO registered_puppets (user_id) VALUES (?) ON CONFLICT DO NOTHING",
} as const;

export function userQueries(db: Database.Database): UserStore {
  const q = prepareAll(db, SQL);
  const nativeUser = (userId: UserId) => {
    const row = q.nativeUser.get(userId) as NativeUserRecord | undefined;
    return row && toNativeUser(row);
  };
  return {
    nativeUser,
    nativeUsers(userIds) {
      const found = new Map<UserId, NativeUserRow>();
      // In chunks: SQLite limits the number of bound parameters of one statement.
      for (let i = 0; i < userIds.length; i += 500) {
        const chunk = userIds.slice(i, i + 500);
        const rows = db
          .prepare(`${SQL.nativeUser.replace("= ?", "IN")} (${chunk.map(() => "?").join(", ")})`)
          .all(...chunk) as NativeUserRecord[];
        for (const row of rows) found.set(asUserId(row.user_id), toNativeUser(row));
      }
      return found;
    },
    upsertNativeUser({ userId, localpart, isGuest }) {
      q.insertNativeUser.run(userId, localpart, isGuest ? 1 : 0, Date.now());
      const row = nativeUser(userId);
      if (!row) throw new Error(`user ${userId} vanished while being inserted`);
      return row;
    },
    setNativeProfile(userId, profile) {
      q.setNativeProfile.run(profile.display_name, profile.avatar_url, userId);
    },
    setMatrixDisplayName(userId, displayName) {
      q.setMatrixDisplayName.run(displayName, userId);
    },
    isPuppetRegistered: (userId) => q.isPuppetRegistered.get(userId) !== undefined,
    searchNativeUsers(term, limit) {
      const pattern = containsPattern(term);
      return (q.search.all(pattern, pattern, limit) as NativeUserRecord[]).map(toNativeUser);
    },
    addRegisteredPuppet(userId) {
      q.addRegisteredPuppet.run(userId);
    },
  };
}
