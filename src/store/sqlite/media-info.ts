// What Parley learnt of uploads (size, pixel size, thumbnail), by content URI.
import type Database from "better-sqlite3";
import type { MediaInfoRow, MediaInfoStore } from "../../domain/ports/store.ts";
import { MEDIA_INFO_COLUMNS, type MediaInfoRecord, mediaInfoValues, toMediaInfo } from "../rows.ts";
import { prepareAll } from "./prepare.ts";

const SQL = {
  set: `INSERT INTO media_info (${MEDIA_INFO_COLUMNS}, created_at) VALUES (?, ?, ?, ?, ?, ?)
    ON CONFLICT (mxc) DO NOTHING`,
  one: `SELECT ${MEDIA_INFO_COLUMNS} FROM media_info WHERE mxc = ?`,
} as const;

export function mediaInfoQueries(db: Database.Database): MediaInfoStore {
  const q = prepareAll(db, SQL);
  return {
    setMediaInfo(info, at) {
      q.set.run(...mediaInfoValues(info, at));
    },
    mediaInfo(mxcs) {
      const found = new Map<string, MediaInfoRow>();
      for (const mxc of new Set(mxcs)) {
        const row = q.one.get(mxc) as MediaInfoRecord | undefined;
        if (row) found.set(mxc, toMediaInfo(row));
      }
      return found;
    },
  };
}
