// What Parley learnt of uploads (size, pixel size, thumbnail), by content URI.
import type { Async, MediaInfoRow, MediaInfoStore } from "../../domain/ports/store.ts";
import { MEDIA_INFO_COLUMNS, type MediaInfoRecord, mediaInfoValues, toMediaInfo } from "../rows.ts";
import { type Db, named } from "./db.ts";

const SQL = named("mediaInfo", {
  set: `INSERT INTO media_info (${MEDIA_INFO_COLUMNS}, created_at) VALUES ($1, $2, $3, $4, $5, $6)
    ON CONFLICT (mxc) DO NOTHING`,
  many: `SELECT ${MEDIA_INFO_COLUMNS} FROM media_info WHERE mxc = ANY($1)`,
});

export function mediaInfoQueries(db: Db): Async<MediaInfoStore> {
  return {
    async setMediaInfo(info, at) {
      await db.changes(SQL.set, [...mediaInfoValues(info, at)]);
    },
    async mediaInfo(mxcs) {
      const found = new Map<string, MediaInfoRow>();
      if (mxcs.length === 0) return found;
      for (const row of await db.rows<MediaInfoRecord>(SQL.many, [[...new Set(mxcs)]])) {
        found.set(row.mxc, toMediaInfo(row));
      }
      return found;
    },
  };
}
