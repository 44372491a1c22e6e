// Numbered migrations: src/store/sqlite/migrations/NNN_name.sql, each applied once, in order, in a
// transaction; the database's user_version is the last one applied.
import { join } from "node:path";
import type BetterSqlite3 from "better-sqlite3";
import { loadMigrations as loadFrom, type Migration, refuseNewerSchema } from "../migration-files.ts";

const MIGRATIONS_DIR = join(import.meta.dirname, "migrations");

export const loadMigrations = (dir = MIGRATIONS_DIR): Migration[] => loadFrom(dir);

/**
 * Applies the migrations newer than the database's user_version; returns the versions applied.
 * Throws for a database a newer Parley migrated further.
 */
export function migrate(db: BetterSqlite3.Database, migrations = loadMigrations()): number[] {
  const current = db.pragma("user_version", { simple: true }) as number;
  refuseNewerSchema(current, migrations);
  const applied: number[] = [];
  for (const migration of migrations) {
    if (migration.version <= current) continue;
    db.transaction(() => {
      db.exec(migration.sql);
      db.pragma(`user_version = ${migration.version}`);
    })();
    applied.push(migration.version);
  }
  return applied;
}
