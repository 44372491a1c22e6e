// What only the PostgreSQL store must do: stay right with several nodes writing at once, migrate
// once when nodes start together, keep its schema in step with SQLite's, and outlive dropped
// connections.
import Database from "better-sqlite3";
import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Store } from "../../src/domain/ports/store.ts";
import { asChannelName, asMatrixEventId, asRoomId, asUserId } from "../../src/protocol/ids.ts";
import { SchemaTooNewError } from "../../src/store/migration-files.ts";
import { loadMigrations as loadPostgresMigrations, migrate } from "../../src/store/postgres/migrate.ts";
import { openPostgresStore } from "../../src/store/postgres/store.ts";
import {
  loadMigrations as loadSqliteMigrations,
  migrate as migrateSqlite,
} from "../../src/store/sqlite/migrate.ts";
import { postgresAdapter } from "../support/stores.ts";

const adapter = postgresAdapter();
beforeAll(() => adapter.setup(), 60_000);
afterEach(() => adapter.closeAll());
afterAll(() => adapter.teardown());

const alice = asUserId("@chat_alice:x");
const event = (channelId: number, id: string | null) => ({
  channelId,
  matrixEventId: id === null ? null : asMatrixEventId(id),
  eventType: "channel.message",
  sender: alice,
  content: { body: id },
  ts: 1,
});

/** Runs `work` for 0..count-1, at most `width` at a time. */
async function inParallel(count: number, width: number, work: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < count) await work(next++);
  };
  await Promise.all(Array.from({ length: width }, lane));
}

const allSeqs = async (store: Store, channelId: number) =>
  (await store.eventsBetween(channelId, {}, 10_000, false)).map((e) => e.seq);

describe("two nodes writing one channel", () => {
  it("get gapless, distinct seqs: rollbacks and already-logged events take none", async () => {
    const { store: first, open } = await adapter.fresh();
    const second = await open();
    const channel = await first.insertChannel(asChannelName("a"), asRoomId("!a:x"), "#a");
    const appended: number[] = [];
    const node = (store: Store, name: string) => async (i: number) => {
      if (i % 10 === 3) {
        // Takes a seq, then rolls back: the seq must be handed out again.
        await store
          .transaction(async () => {
            await store.appendEvent(event(channel.id, `$${name}-rolled-${i}`));
            throw new Error("roll back");
          })
          .catch(() => undefined);
        return;
      }
      // Both nodes log the same Matrix event: one of them gets it.
      const id = i % 10 === 7 ? `$shared-${i}` : i % 2 === 0 ? null : `$${name}-${i}`;
      const stored =
        i % 5 === 1
          ? await store.transaction(async () => await store.appendEvent(event(channel.id, id)))
          : await store.appendEvent(event(channel.id, id));
      if (stored) appended.push(stored.seq);
    };
    await Promise.all([inParallel(200, 6, node(first, "first")), inParallel(200, 6, node(second, "second"))]);
    // 2 × 200, less 2 × 20 rolled back, less the 20 shared events the slower node found logged.
    expect(appended.length).toBe(340);
    const expected = Array.from({ length: 340 }, (_, i) => i + 1);
    expect([...appended].sort((a, b) => a - b)).toEqual(expected);
    expect(await allSeqs(second, channel.id)).toEqual(expected);
    expect(await first.nextSeq(channel.id)).toBe(341);
  }, 60_000);

  it("prepend history below each other's, without duplicates", async () => {
    const { store: first, open } = await adapter.fresh();
    const second = await open();
    const channel = await first.insertChannel(asChannelName("a"), asRoomId("!a:x"), "#a");
    await first.appendEvent(event(channel.id, "$live"));
    const prepend = (store: Store, name: string) => async (i: number) => {
      await store.prependEvent(event(channel.id, `$${name}-old-${i}`));
    };
    await Promise.all([
      inParallel(30, 3, prepend(first, "first")),
      inParallel(30, 3, prepend(second, "second")),
    ]);
    expect(await allSeqs(first, channel.id)).toEqual(Array.from({ length: 61 }, (_, i) => i - 59));
  }, 30_000);
});

/** PostgreSQL's own: its migration record, the seq counters, and the order of reactions (SQLite's rowid). */
const POSTGRES_ONLY = new Set(["schema_version", "event_seqs", "reactions.ordinal"]);

describe("migrations", () => {
  it("mirror SQLite's: the same numbers and names, each with a why", () => {
    const postgres = loadPostgresMigrations();
    const sqlite = loadSqliteMigrations();
    expect(postgres.map((m) => `${m.version}_${m.name}`)).toEqual(
      sqlite.map((m) => `${m.version}_${m.name}`),
    );
    for (const m of postgres) expect(m.sql).toMatch(/^-- why: /);
  });

  it("run once when nodes start together, and the nodes share one instance id", async () => {
    const url = await adapter.server().createDatabase();
    const pools = [0, 1, 2].map(() => new pg.Pool({ connectionString: url }));
    try {
      const applied = await Promise.all(pools.map((pool) => migrate(pool)));
      const all = loadPostgresMigrations().map((m) => m.version);
      expect(applied.flat().sort((a, b) => a - b)).toEqual(all);
      const versions = await pools[0]?.query<{ version: number }>(
        "SELECT version FROM schema_version ORDER BY 1",
      );
      expect(versions?.rows.map((r) => r.version)).toEqual(all);
    } finally {
      await Promise.all(pools.map((pool) => pool.end()));
    }
    const nodes = await Promise.all([openPostgresStore(url), openPostgresStore(url)]);
    expect(nodes[0]?.instanceId).toMatch(/^[0-9a-f]{16}$/);
    expect(nodes[1]?.instanceId).toBe(nodes[0]?.instanceId);
    await Promise.all(nodes.map((node) => node.close()));
  });

  it("refuse a database a newer Parley migrated further, and leave it as it was", async () => {
    const url = await adapter.server().createDatabase();
    const pool = new pg.Pool({ connectionString: url });
    try {
      await migrate(pool);
      const known = loadPostgresMigrations().length;
      const newer = (loadPostgresMigrations().at(-1)?.version ?? 0) + 1;
      await pool.query("INSERT INTO schema_version (version, name) VALUES ($1, 'from_the_future')", [newer]);
      await expect(migrate(pool)).rejects.toThrow(SchemaTooNewError);
      await expect(openPostgresStore(url)).rejects.toThrow(`the database has schema migration ${newer}`);
      const versions = await pool.query<{ n: number }>("SELECT count(*)::int AS n FROM schema_version");
      expect(versions.rows[0]?.n).toBe(known + 1);
    } finally {
      await pool.end();
    }
  });

  it("leave the same tables and columns as SQLite's", async () => {
    const sqlite = new Database(":memory:");
    migrateSqlite(sqlite);
    const sqliteSchema: string[] = [];
    const tables = sqlite
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
      .all() as Array<{ name: string }>;
    for (const { name } of tables) {
      const columns = sqlite.pragma(`table_info(${name})`) as Array<{
        name: string;
        notnull: number;
        pk: number;
      }>;
      for (const c of columns) sqliteSchema.push(`${name}.${c.name}${c.notnull || c.pk ? " not null" : ""}`);
    }

    const url = await adapter.server().createDatabase();
    await (await openPostgresStore(url)).close();
    const client = new pg.Client(url);
    await client.connect();
    const { rows } = await client.query<{ table_name: string; column_name: string; is_nullable: string }>(
      "SELECT table_name, column_name, is_nullable FROM information_schema.columns WHERE table_schema = 'public'",
    );
    await client.end();
    const postgresSchema = rows
      .filter(
        (r) => !POSTGRES_ONLY.has(r.table_name) && !POSTGRES_ONLY.has(`${r.table_name}.${r.column_name}`),
      )
      .map((r) => `${r.table_name}.${r.column_name}${r.is_nullable === "NO" ? " not null" : ""}`);
    expect(postgresSchema.sort()).toEqual(sqliteSchema.sort());
  });
});

describe("text PostgreSQL cannot hold", () => {
  it("stores a NUL from Matrix as U+FFFD instead of failing the write", async () => {
    const { store } = await adapter.fresh();
    const channel = await store.insertChannel(asChannelName("a"), asRoomId("!a:x"), "#a");
    const profile = { display_name: "a\0b", avatar_url: null };
    await store.setMember({ channelId: channel.id, userId: alice, membership: "join", profile, at: 1 });
    expect((await store.member(channel.id, alice))?.displayName).toBe("a\uFFFDb");
    await store.appendEvent({ ...event(channel.id, "$nul"), content: { body: "x\0y" } });
    expect((await store.eventByMatrixId(asMatrixEventId("$nul")))?.content).toEqual({ body: "x\0y" });
    expect((await store.nativeUsers([asUserId("@a\0:x")])).size).toBe(0);
  });
});

describe("connections", () => {
  it("are replaced after the server drops them, idle or in a transaction", async () => {
    const { store } = await adapter.fresh();
    const channel = await store.insertChannel(asChannelName("a"), asRoomId("!a:x"), "#a");
    await Promise.all([1, 2, 3].map((n) => store.appendEvent(event(channel.id, `$${n}`))));
    let resume!: () => void;
    const paused = new Promise<void>((resolve) => {
      resume = resolve;
    });
    let inside!: () => void;
    const started = new Promise<void>((resolve) => {
      inside = resolve;
    });
    const transaction = store.transaction(async () => {
      await store.appendEvent(event(channel.id, "$lost"));
      inside();
      await paused;
      await store.appendEvent(event(channel.id, "$after"));
    });
    await started;
    await adapter.server().terminateConnections();
    resume();
    await expect(transaction).rejects.toThrow();
    // The pooled connections died too (idle ones with an error event, which must not crash us).
    expect((await store.appendEvent(event(channel.id, "$4")))?.seq).toBe(4);
    expect(await store.eventByMatrixId(asMatrixEventId("$lost"))).toBeUndefined();
    await adapter.server().restart();
    expect((await store.appendEvent(event(channel.id, "$5")))?.seq).toBe(5);
  });

  it("go back to the pool whatever the work did", async () => {
    const { store } = await adapter.fresh();
    const channel = await store.insertChannel(asChannelName("a"), asRoomId("!a:x"), "#a");
    // More failures than the pool has connections: a leak would leave the last call waiting.
    for (let i = 0; i < 15; i++) {
      await expect(store.transaction(async () => Promise.reject(new Error("work failed")))).rejects.toThrow();
      await expect(store.appendEvent(event(9999, `$nowhere-${i}`))).rejects.toThrow();
      await expect(
        store.transaction(async () => {
          await store.appendEvent(event(9999, `$nowhere-in-${i}`));
        }),
      ).rejects.toThrow();
    }
    expect((await store.appendEvent(event(channel.id, "$1")))?.seq).toBe(1);
  });
});
