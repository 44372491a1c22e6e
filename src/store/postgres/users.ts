// Native users and their registered puppets.
import type { Async, NativeUserRow, UserStore } from "../../domain/ports/store.ts";
import { asUserId, type UserId } from "../../protocol/ids.ts";
import { containsPattern, NATIVE_USER_COLUMNS, type NativeUserRecord, toNativeUser } from "../rows.ts";
import { type Db, named } from "./db.ts";

const SQL = named("users", {
  nativeUser: `SELECT ${NATIVE_USER_COLUMNS} FROM native_users WHERE user_id = $1`,
  nativeUsers: `SELECT ${NATIVE_USER_COLUMNS} FROM native_users WHERE user_id = ANY($1)`,
  insertNativeUser:
    "INSERT INTO native_users (user_id, localpart, is_guest, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
  setNativeProfile: "UPDATE native_users SET display_name = $1, avatar_url = $2 WHERE user_id = $3",
  setMatrixDisplayName: "UPDATE native_users SET matrix_display_name = $1 WHERE user_id = $2",
  isPuppetRegistered: "SELECT 1 FROM registered_puppets WHERE user_id = $1",
  search: `SELECT ${NATIVE_USER_COLUMNS} FROM native_users WHERE NOT is_guest
    AND localpart NOT LIKE 'api-%' AND localpart NOT LIKE 'hook-%'
    AND (localpart ILIKE $1 OR display_name ILIKE $1) ORDER BY localpart COLLATE "C" LIMIT $2`,
  addRegisteredPuppet: "INSERT INTO registered_puppets (user_id) VALUES ($1) ON CONFLICT DO NOTHING",
});

export function userQueries(db: Db): Async<UserStore> {
  const nativeUser = async (userId: UserId) => {
    const row = await db.first<NativeUserRecord>(SQL.nativeUser, [userId]);
    return row && toNativeUser(row);
  };
  return {
    nativeUser,
    async nativeUsers(userIds) {
      const found = new Map<UserId, NativeUserRow>();
      if (userIds.length === 0) return found;
      for (const row of await db.rows<NativeUserRecord>(SQL.nativeUsers, [userIds])) {
        found.set(asUserId(row.user_id), toNativeUser(row));
      }
      return found;
    },
    async upsertNativeUser({ userId, localpart, isGuest }) {
      await db.changes(SQL.insertNativeUser, [userId, localpart, isGuest, Date.now()]);
      const row = await nativeUser(userId);
      if (!row) throw new Error(`user ${userId} vanished while being inserted`);
      return row;
    },
    async setNativeProfile(userId, profile) {
      await db.changes(SQL.setNativeProfile, [profile.display_name, profile.avatar_url, userId]);
    },
    async setMatrixDisplayName(userId, displayName) {
      await db.changes(SQL.setMatrixDisplayName, [displayName, userId]);
    },
    isPuppetRegistered: async (userId) => (await db.first(SQL.isPuppetRegistered, [userId])) !== undefined,
    searchNativeUsers: async (term, limit) =>
      (await db.rows<NativeUserRecord>(SQL.search, [containsPattern(term), limit])).map(toNativeUser),
    async addRegisteredPuppet(userId) {
      await db.changes(SQL.addRegisteredPuppet, [userId]);
    },
  };
}
