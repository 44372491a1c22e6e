// The protocol's channel directory and user search (PROTOCOL.md section 8).
import type Database from "better-sqlite3";
import type { DirectoryStore } from "../../domain/ports/store.ts";
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
import { prepareAll } from "./prepare.ts";

const LISTED_FROM = `FROM channels c LEFT JOIN channel_settings s ON s.channel_id = c.id WHERE ${listedWhere("sqlite")}`;

const SQL = {
  listed: `SELECT ${LISTED_COLUMNS} ${LISTED_FROM}`,
  // A JSON array of ids: one statement whatever their number.
  listedAmong: `SELECT ${LISTED_COLUMNS} ${LISTED_FROM} AND c.id IN (SELECT value FROM json_each(?))`,
  joinedCounts: `SELECT channel_id, COUNT(*) AS n FROM members
    WHERE membership = 'join' AND user_id IN (SELECT value FROM json_each(?)) GROUP BY channel_id`,
  searchUsers: `SELECT ${FOUND_USER_COLUMNS} FROM user_directory d
    LEFT JOIN native_users n ON n.user_id = d.user_id
    WHERE ${userSearchWhere("sqlite")} ORDER BY d.user_id LIMIT :limit OFFSET :offset`,
} as const;

export function directoryQueries(db: Database.Database): DirectoryStore {
  const q = prepareAll(db, SQL);
  return {
    listedChannels: () => (q.listed.all() as ListedRecord[]).map(toListed),
    listedAmong: (channelIds) =>
      (q.listedAmong.all(JSON.stringify(channelIds)) as ListedRecord[]).map(toListed),
    joinedCountsAmong(userIds) {
      const counts = new Map<number, number>();
      if (userIds.length === 0) return counts;
      const rows = q.joinedCounts.all(JSON.stringify(userIds)) as Array<{ channel_id: number; n: number }>;
      for (const row of rows) counts.set(row.channel_id, row.n);
      return counts;
    },
    searchUsers: ({ term, caller, exclude, limit, offset }) =>
      (
        q.searchUsers.all({ p: containsPattern(term), caller, exclude, limit, offset }) as FoundUserRecord[]
      ).map(toFoundUser),
  };
}
