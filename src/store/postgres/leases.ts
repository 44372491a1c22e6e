// Leases: which node does a job until when (see migration 010).
import type { Async, LeaseStore } from "../../domain/ports/store.ts";
import { type Db, named } from "./db.ts";

const SQL = named("leases", {
  // Taken when free, run out, or already ours (then renewed). One statement: of nodes racing for
  // a free lease, the row lock lets one win; the others see its row and find it held.
  acquire: `INSERT INTO leases AS l (name, holder, until) VALUES ($1, $2, $3)
    ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until = excluded.until
    WHERE l.until < $4 OR l.holder = excluded.holder`,
  release: "DELETE FROM leases WHERE name = $1 AND holder = $2",
});

export function leaseQueries(db: Db): Async<LeaseStore> {
  return {
    acquireLease: async (name, holder, ttlMs, now) =>
      (await db.changes(SQL.acquire, [name, holder, now + ttlMs, now])) > 0,
    async releaseLease(name, holder) {
      await db.changes(SQL.release, [name, holder]);
    },
  };
}
