// The protocol's channel directory and user search (PROTOCOL.md section 8).
import type { Async, DirectoryStore } from "../../domain/ports/store.ts";
import {
  containsPattern,
  FOUND_USER_COLUMNS,
  type FoundUserRecord,
  LISTED_COLUMNS,
  type ListedRecord,
  listedWhere,
  toFoundUser,
  toListed,
  userSearchWhere,
} from "../rows.ts";
import { type Db, named } from "./db.ts";

const LISTED_FROM = `FROM channels c LEFT JOIN channel_settings s ON s.channel_id = c.id WHERE ${listedWhere("postgres")}`;
const numbered = (sql: string) =>
  sql.replaceAll(":p", "$1").replaceAll(":caller", "$2").replaceAll(":exclude", "$3");

const SQL = named("directory", {
  listed: `SELECT ${LISTED_COLUMNS} ${LISTED_FROM}`,
  listedAmong: `SELECT ${LISTED_COLUMNS} ${LISTED_FROM} AND c.id = ANY($1::bigint[])`,
  joinedCounts: `SELECT channel_id, COUNT(*) AS n FROM members
    WHERE membership = 'join' AND user_id = ANY($1) GROUP BY channel_id`,
  // COLLATE "C": by code point, as SQLite orders them, so a page means the same in both.
  searchUsers: numbered(`SELECT ${FOUND_USER_COLUMNS} FROM user_directory d
    LEFT JOIN native_users n ON n.user_id = d.user_id
    WHERE ${userSearchWhere("postgres")} ORDER BY d.user_id COLLATE "C" LIMIT $4 OFFSET $5`),
});

export function directoryQueries(db: Db): Async<DirectoryStore> {
  return {
    listedChannels: async () => (await db.rows<ListedRecord>(SQL.listed)).map(toListed),
    listedAmong: async (channelIds) =>
      (await db.rows<ListedRecord>(SQL.listedAmong, [channelIds.map(String)])).map(toListed),
    async joinedCountsAmong(userIds) {
      const counts = new Map<number, number>();
      if (userIds.length === 0) return counts;
      const rows = await db.rows<{ channel_id: number | string; n: number | string }>(SQL.joinedCounts, [
        userIds,
      ]);
      for (const row of rows) counts.set(Number(row.channel_id), Number(row.n));
      return counts;
    },
    searchUsers: async ({ term, caller, exclude, limit, offset }) =>
      (
        await db.rows<FoundUserRecord>(SQL.searchUsers, [
          containsPattern(term),
          caller,
          exclude,
          limit,
          offset,
        ])
      ).map(toFoundUser),
  };
}
