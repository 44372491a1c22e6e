// Leases: which node does a job until when (see migration 010).
import type Database from "better-sqlite3";
import type { LeaseStore } from "../../domain/ports/store.ts";
import { prepareAll } from "./prepare.ts";

const SQL = {
  // Taken when free, run out, or already ours (then renewed).
  acquire: `INSERT INTO leases (name, holder, until) VALUES (?, ?, ?)
    ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until = excluded.until
    WHERE leases.until < ? OR leases.holder = excluded.holder`,
  release: "DELETE FROM leases WHERE name = ? AND holder = ?",
} as const;

export function leaseQueries(db: Database.Database): LeaseStore {
  const q = prepareAll(db, SQL);
  return {
    acquireLease: (name, holder, ttlMs, now) => q.acquire.run(name, holder, now + ttlMs, now).changes > 0,
    releaseLease(name, holder) {
      q.release.run(name, holder);
    },
  };
}
