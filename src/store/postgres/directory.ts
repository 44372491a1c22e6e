// The protocol's channel directory and user search (PROTOCOL.md section 8).
import type { Async, DirectoryStore } from "../../domain/ports/store.ts";
import {
  containsPattern,
  FOUND_USER_COLUMNS,
  type FoundUserRecord,
  LISTED_COLUMNS,
  type ListedRecord,
  listedWhere,
  lowerAscii,
  toFoundUser,
  toListed,
  userSearchWhere,
} from "../rows.ts";
import { type Db, named, type Statement } from "./db.ts";

const LISTED_FROM = `FROM channels c LEFT JOIN channel_settings s ON s.channel_id = c.id WHERE ${listedWhere("postgres")}`;
const numbered = (sql: string) =>
  sql
    .replaceAll(":p", "$1")
    .replaceAll(":caller", "$2")
    .replaceAll(":exclude", "$3")
    .replaceAll(":mine", "$6");

const SQL = named("directory", {
  listed: `SELECT ${LISTED_COLUMNS} ${LISTED_FROM}`,
  listedAmong: `SELECT ${LISTED_COLUMNS} ${LISTED_FROM} AND c.id = ANY($1::bigint[])`,
  joinedCounts: `SELECT channel_id, COUNT(*) AS n FROM members
    WHERE membership = 'join' AND user_id = ANY($1) GROUP BY channel_id`,
  joinedBy: "SELECT channel_id FROM members WHERE user_id = $1 AND membership = 'join'",
});

/**
 * Unnamed, so planned for each term with its pattern: a prepared statement's generic plan (after
 * five runs) cannot know whether the term is common (walk the ids in order, stop after a page) or
 * rare (the trigram index, then sort), and took 365 ms for a page the right plan answers in 8.
 * By the database's collation (code points in one made with --no-locale, as SQLite orders them):
 * COLLATE "C" here would keep PostgreSQL from the primary key's order and members' index.
 */
const searchUsers = (scanned: boolean): Statement => ({
  name: "",
  text: numbered(`SELECT ${FOUND_USER_COLUMNS} FROM user_directory d
    WHERE ${userSearchWhere("postgres", scanned)} ORDER BY d.user_id LIMIT $4 OFFSET $5`),
});
/** Trigrams need 3 characters: a shorter term walks the rows (18 ms at worst, not 40). */
const SEARCH_USERS = { long: searchUsers(false), short: searchUsers(true) };

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
    async searchUsers({ term, caller, exclude, limit, offset }) {
      const mine = (await db.rows<{ channel_id: number }>(SQL.joinedBy, [caller])).map((r) =>
        String(r.channel_id),
      );
      const p = containsPattern(lowerAscii(term));
      const statement = [...term].length < 3 ? SEARCH_USERS.short : SEARCH_USERS.long;
      return (await db.rows<FoundUserRecord>(statement, [p, caller, exclude, limit, offset, mine])).map(
        toFoundUser,
      );
    },
  };
}
