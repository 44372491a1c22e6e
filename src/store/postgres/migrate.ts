// Numbered migrations: src/store/postgres/migrations/NNN_name.sql (the same numbers and names as
// SQLite's), each applied once, in order, in a transaction, and recorded in schema_version. Nodes
// starting together take turns on an advisory lock, so each migration runs once.
import { join } from "node:path";
import type pg from "pg";
import { loadMigrations as loadFrom, type Migration, refuseNewerSchema } from "../migration-files.ts";

const MIGRATIONS_DIR = join(import.meta.dirname, "migrations");

export const loadMigrations = (dir = MIGRATIONS_DIR): Migration[] => loadFrom(dir);

const LOCK = "SELECT pg_advisory_lock(hashtext('parley.migrate'))";
const UNLOCK = "SELECT pg_advisory_unlock(hashtext('parley.migrate'))";
const VERSIONS = `CREATE TABLE IF NOT EXISTS schema_version (
  version INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
)`;

/**
 * Applies the migrations this database has not had; returns the versions applied. Throws for a
 * database a newer Parley migrated further (one node of a cluster left behind in an upgrade).
 */
export async function migrate(pool: pg.Pool, migrations = loadMigrations()): Promise<number[]> {
  const client = await pool.connect();
  let failed: Error | undefined;
  try {
    // Session-level: released by UNLOCK, or by the server if this connection dies.
    await client.query(LOCK);
    try {
      await client.query(VERSIONS);
      const done = new Set(
        (await client.query<{ version: number }>("SELECT version FROM schema_version")).rows.map(
          (r) => r.version,
        ),
      );
      refuseNewerSchema(Math.max(0, ...done), migrations);
      const applied: number[] = [];
      for (const migration of migrations) {
        if (done.has(migration.version)) continue;
        await client.query("BEGIN");
        try {
          await client.query(migration.sql);
          await client.query("INSERT INTO schema_version (version, name) VALUES ($1, $2)", [
            migration.version,
            migration.name,
          ]);
          await client.query("COMMIT");
        } catch (error) {
          await client.query("ROLLBACK");
          throw new Error(`migration ${migration.version}_${migration.name} failed`, { cause: error });
        }
        applied.push(migration.version);
      }
      return applied;
    } finally {
      await client.query(UNLOCK);
    }
  } catch (error) {
    failed = error instanceof Error ? error : new Error(String(error));
    throw error;
  } finally {
    client.release(failed);
  }
}
