// The store a configuration asks for: PostgreSQL when a URL is set (required for several nodes),
// else the SQLite file.
import type { Config } from "../config/load.ts";
import type { Store } from "../domain/ports/store.ts";
import { openPostgresStore } from "./postgres/store.ts";
import { openSqliteStore } from "./sqlite/store.ts";

export async function openStore(config: Config): Promise<Store> {
  const url = config.store.postgresUrl;
  return url === undefined ? openSqliteStore(config.store.sqlitePath) : openPostgresStore(url);
}
