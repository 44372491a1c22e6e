// The store adapters side by side, for tests that must hold for both: each hands out fresh, empty
// stores and can open another store on the same data (a restart, or a second node).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Store } from "../../src/domain/ports/store.ts";
import { openPostgresStore } from "../../src/store/postgres/store.ts";
import { openSqliteStore } from "../../src/store/sqlite/store.ts";
import { type PostgresServer, startPostgres } from "./postgres.ts";

export interface StoreAdapter {
  readonly name: "SQLite" | "PostgreSQL";
  /** Once per test file, before `fresh` (PostgreSQL starts its private server here). */
  setup(): Promise<void>;
  /** A store on new, empty data; `open` opens one more store on the same data. */
  fresh(): Promise<{ store: Store; open(): Promise<Store> }>;
  /** Closes every store opened so far (after each test). */
  closeAll(): Promise<void>;
  teardown(): Promise<void>;
}

/** Remembers what was opened, so each test can close it all. */
function tracker() {
  const open = new Set<Store>();
  return {
    track(store: Store): Store {
      open.add(store);
      return store;
    },
    async closeAll() {
      const stores = [...open];
      open.clear();
      await Promise.all(stores.map((store) => store.close()));
    },
  };
}

export function sqliteAdapter(): StoreAdapter {
  const stores = tracker();
  let dir: string | undefined;
  let files = 0;
  return {
    name: "SQLite",
    async setup() {
      dir = mkdtempSync(join(tmpdir(), "parley-sqlite-"));
    },
    async fresh() {
      const path = join(dir ?? tmpdir(), `store-${++files}.db`);
      const open = async () => stores.track(openSqliteStore(path));
      return { store: await open(), open };
    },
    closeAll: () => stores.closeAll(),
    async teardown() {
      await stores.closeAll();
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function postgresAdapter(): StoreAdapter & { server(): PostgresServer } {
  const stores = tracker();
  let server: PostgresServer | undefined;
  // Migrated once: a copy of it is quicker to make than applying every migration to each database.
  let template: string | undefined;
  const started = () => {
    if (!server) throw new Error("the PostgreSQL adapter was not set up (beforeAll)");
    return server;
  };
  return {
    name: "PostgreSQL",
    server: started,
    async setup() {
      server = await startPostgres();
      template = await server.createDatabase();
      await (await openPostgresStore(template)).close();
    },
    async fresh() {
      const url = await started().createDatabase(template);
      const open = async () => stores.track(await openPostgresStore(url));
      return { store: await open(), open };
    },
    closeAll: () => stores.closeAll(),
    async teardown() {
      await stores.closeAll();
      await server?.stop();
    },
  };
}

export const storeAdapters = (): StoreAdapter[] => [sqliteAdapter(), postgresAdapter()];
