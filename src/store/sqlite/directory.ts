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
  lowerAscii,
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
  joinedBy: "SELECT channel_id FROM members WHERE user_id = ? AND membership = 'join'",
  searchUsers: `SELECT ${FOUND_USER_COLUMNS} FROM user_directory d
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
    searchUsers({ term, caller, exclude, limit, offset }) {
      const mine = JSON.stringify(
        (q.joinedBy.all(caller) as Array<{ channel_id: number }>).map((r) => r.channel_id),
      );
      const p = containsPattern(lowerAscii(term));
      return (q.searchUsers.all({ p, caller, exclude, mine, limit, offset }) as FoundUserRecord[]).map(
        toFoundUser,
      );
    },
  };
}
