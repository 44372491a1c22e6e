// Numbered migration files, NNN_name.sql, as both adapters read them: each dialect keeps its own
// directory with the same numbers and names (a test checks that the two sets stay in step).
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/** An operator's problem, said in one line: the command line prints its message alone. */
export class SchemaTooNewError extends Error {
  override readonly name = "SchemaTooNewError";
}

/**
 * Refuses a database that a newer Parley has migrated further than this build knows: it would
 * misread what the newer schema keeps (as Synapse refuses a database "too new" for it).
 */
export function refuseNewerSchema(newestApplied: number, migrations: readonly Migration[]): void {
  const newestKnown = migrations.at(-1)?.version ?? 0;
  if (newestApplied <= newestKnown) return;
  throw new SchemaTooNewError(
    `the database has schema migration ${newestApplied}, and this Parley knows migrations up to ` +
      `${newestKnown}: a newer Parley has upgraded it. Run that version (or newer), or restore a ` +
      "backup taken before the upgrade.",
  );
}

export function loadMigrations(dir: string): Migration[] {
  return readdirSync(dir)
    .filter((file) => /^\d{3}_[a-z0-9_]+\.sql$/.test(file))
    .sort()
    .map((file) => ({
      version: Number(file.slice(0, 3)),
      name: file.slice(4, -4),
      sql: readFileSync(join(dir, file), "utf8"),
    }));
}
