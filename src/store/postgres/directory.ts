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
const searchUsers = (where: string): Statement => ({
  name: "",
  text: numbered(`SELECT ${FOUND_USER_COLUMNS} FROM user_directory d
    WHERE ${where} ORDER BY d.user_id LIMIT $4 OFFSET $5`),
});
/**
 * Trigrams need 3 characters. A shorter term first asks the grams index (migration 019) who holds
 * it: nobody, and the answer is empty; at most FEW_HOLDERS, and only they are checked, by id
 * (`among`); more, and the rows are walked in id order (`short`), stopping after a page, which a
 * term that many hold fills soon. Walking for a term (almost) nobody holds read all 100,000 rows
 * of the benchmark (17 ms; 47 at p99 under load); asking costs 0.2 ms for a rare term, about 2 for
 * a common one. The holders and the page are two statements, each its own snapshot: a user who
 * takes the term between them is missed, as if they took it just after the search.
 */
export const FEW_HOLDERS = 200;
const SEARCH_USERS = {
  long: searchUsers(userSearchWhere("postgres")),
  short: searchUsers(userSearchWhere("postgres", true)),
  among: searchUsers(`d.user_id = ANY($7::text[]) AND ${userSearchWhere("postgres", true)}`),
};
/**
 * Unnamed too: a term most users hold is found soonest by reading the table, a rare one by the
 * index, and only the term tells which. The LIKE (the same test, for such a term) comes first in
 * a read of the table: the pairs are computed only for holders, not for every row before them.
 */
const HOLDERS: Statement = {
  name: "",
  text: `SELECT user_id FROM user_directory
    WHERE user_search_grams(search) @> ARRAY[$1::text] AND (search || '') LIKE $2 LIMIT $3`,
};
/** The index has every character and pair of `search` but pairs holding chr(1) (migration 019). */
const indexed = (term: string) => term !== "" && !term.includes("\u0001");

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
      const lowered = lowerAscii(term);
      const p = containsPattern(lowered);
      const short = [...term].length < 3;
      let holders: string[] | undefined;
      if (short && indexed(lowered)) {
        const found = await db.rows<{ user_id: string }>(HOLDERS, [lowered, p, FEW_HOLDERS + 1]);
        // Nobody holds it: nobody is found, whatever the channels.
        if (found.length === 0) return [];
        if (found.length <= FEW_HOLDERS) holders = found.map((r) => r.user_id);
      }
      const mine = (await db.rows<{ channel_id: number }>(SQL.joinedBy, [caller])).map((r) =>
        String(r.channel_id),
      );
      const values = [p, caller, exclude, limit, offset, mine];
      const [statement, all] = holders
        ? [SEARCH_USERS.among, [...values, holders]]
        : [short ? SEARCH_USERS.short : SEARCH_USERS.long, values];
      return (await db.rows<FoundUserRecord>(statement, all)).map(toFoundUser);
    },
  };
}
