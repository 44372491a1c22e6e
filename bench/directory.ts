// Directory: chat.directory and user.list.search on a big installation (10,000 channels, 100,000
// users, 300,000 memberships, 5,000 Matrix users online; bench/directory-seed.ts), through the real
// router over one WebSocket of the middle tier (the real services and gateway, a fake homeserver:
// neither action reaches Matrix), on SQLite and on a private PostgreSQL (BENCH_DIRECTORY_PG=0
// leaves it out). One request at a time; request -> reply, in ms. Also the ranking itself, built
// through the domain with nothing cached: what one query in `chat.directory_refresh_ms` (10 s)
// pays, or the background if a stale ranking answers meanwhile.
// `node bench/directory.ts` runs it alone; bench/run.ts runs it as a part.
import { join } from "node:path";
import Database from "better-sqlite3";
import pg from "pg";
import { createDirectory } from "../src/domain/directory.ts";
import type { Store } from "../src/domain/ports/store.ts";
import { asChannelName, asUserId } from "../src/protocol/ids.ts";
import { openPostgresStore } from "../src/store/postgres/store.ts";
import { migrate } from "../src/store/sqlite/migrate.ts";
import { openSqliteStore } from "../src/store/sqlite/store.ts";
import type { TestClient } from "../test/support/client.ts";
import { type Middle, startMiddle } from "../test/support/middle.ts";
import { startPostgres } from "../test/support/postgres.ts";
import { channelName, matrixUser, SEED, seedPostgres, seedSqlite } from "./directory-seed.ts";
import { type Summary, summarize } from "./stats.ts";

export const ONLINE_MATRIX_USERS = 5_000;
export const PAGE_REQUESTS = 300;
export const RANKINGS = 20;
/** The anchor: a page's p99. */
export const PAGE_P99_GOAL_MS = 20;

export interface DirectoryRun {
  readonly store: "sqlite" | "postgres";
  readonly seedMs: number;
  /** Label -> summary of request -> reply times. */
  readonly pages: Record<string, Summary>;
  /** Building a ranking (and answering a first page from it), nothing cached. */
  readonly ranking: Summary;
}

async function timed(n: number, request: (i: number) => Promise<unknown>): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < 5; i++) await request(i); // warm-up
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await request(i);
    samples.push(performance.now() - t0);
  }
  return samples;
}

type Page = { results: Array<{ id: string }>; next_cursor?: string };

async function measure(m: Middle, store: Store): Promise<Pick<DirectoryRun, "pages" | "ranking">> {
  const now = Date.now();
  for (let i = 1; i < 2 * ONLINE_MATRIX_USERS; i += 2)
    m.services.activity.touch(asUserId(matrixUser(i)), now);
  // A seeded native user (member of three channels) asks.
  const client: TestClient = await m.login("user_000004");
  const directory = (payload: Record<string, unknown>) =>
    client.ok("chat.directory", payload) as Promise<unknown> as Promise<Page>;
  const search = (term: string, page = 1) =>
    client.ok("user.list.search", { search_term: term, page }) as Promise<unknown>;

  // Every page of the whole listing, cursor after cursor, over and over.
  let cursor: string | undefined;
  const next = async () => {
    const page = await directory({ count: 50, ...(cursor ? { cursor } : {}) });
    cursor = page.next_cursor;
  };
  const pages: Record<string, number[]> = {
    "chat.directory, first page (50)": await timed(PAGE_REQUESTS, () => directory({ count: 50 })),
    "chat.directory, following pages": await timed(PAGE_REQUESTS, next),
    'chat.directory, search "music"': await timed(PAGE_REQUESTS, () => directory({ search: "music" })),
    'chat.directory, search "room_0999"': await timed(PAGE_REQUESTS, () =>
      directory({ search: "room_0999" }),
    ),
    'user.list.search "fan", page 1': await timed(PAGE_REQUESTS, () => search("fan")),
    'user.list.search "fan", page 50': await timed(PAGE_REQUESTS, () => search("fan", 50)),
    'user.list.search "music fan 00123"': await timed(PAGE_REQUESTS, () => search("music fan 00123")),
    'user.list.search "nobody" (no match)': await timed(PAGE_REQUESTS, () => search("nobody")),
    'user.list.search "qz" (2 letters, none)': await timed(PAGE_REQUESTS, () => search("qz")),
  };
  client.close();

  // A ranking from scratch each time (refresh 0), through the domain.
  const cold = createDirectory({
    store,
    activity: m.services.activity,
    featured: [asChannelName(channelName(5))],
    refreshMs: 0,
    botUserId: asUserId("@parley:localhost"),
    log: { debug() {}, info() {}, warn() {}, error() {} },
  });
  const ranking = await timed(RANKINGS, () => cold.channels({ count: 50 }));
  return {
    pages: Object.fromEntries(Object.entries(pages).map(([label, xs]) => [label, summarize(xs)])),
    ranking: summarize(ranking),
  };
}

async function run(kind: DirectoryRun["store"], open: () => Promise<{ store: Store; seedMs: number }>) {
  const { store, seedMs } = await open();
  const m = await startMiddle({ store, chat: { featured_channels: [channelName(5), channelName(10)] } });
  try {
    return { store: kind, seedMs, ...(await measure(m, store)) };
  } finally {
    await m.stop();
    await store.close();
  }
}

export async function directoryBench(
  scratch: string,
  progress: (line: string) => void,
): Promise<DirectoryRun[]> {
  const runs: DirectoryRun[] = [];
  progress("directory: seeding SQLite");
  runs.push(
    await run("sqlite", async () => {
      const path = join(scratch, "directory.sqlite");
      const t0 = performance.now();
      const db = new Database(path);
      db.pragma("journal_mode = WAL");
      migrate(db);
      seedSqlite(db);
      db.close();
      return { store: openSqliteStore(path), seedMs: performance.now() - t0 };
    }),
  );
  if (process.env.BENCH_DIRECTORY_PG === "0") return runs;
  progress("directory: starting a private PostgreSQL and seeding it");
  const server = await startPostgres();
  try {
    runs.push(
      await run("postgres", async () => {
        const url = await server.createDatabase();
        const t0 = performance.now();
        await (await openPostgresStore(url)).close(); // migrates
        const client = new pg.Client(url);
        await client.connect();
        await seedPostgres(client);
        await client.end();
        return { store: await openPostgresStore(url), seedMs: performance.now() - t0 };
      }),
    );
  } finally {
    await server.stop();
  }
  return runs;
}

const fmt = (x: number) => x.toFixed(2);

export function printDirectory(runs: readonly DirectoryRun[]): void {
  const lines = [
    "",
    `directory: ${SEED.channels.toLocaleString("en-US")} channels, ${SEED.users.toLocaleString("en-US")} users, ` +
      `${(SEED.users * SEED.perUser).toLocaleString("en-US")} memberships, ` +
      `${ONLINE_MATRIX_USERS.toLocaleString("en-US")} online; one request at a time over one connection, in ms`,
  ];
  for (const r of runs) {
    lines.push("", `${r.store} (seeded in ${(r.seedMs / 1000).toFixed(1)} s)`);
    lines.push(
      `${"request".padEnd(40)} ${"n".padStart(5)} ${"p50".padStart(7)} ${"p99".padStart(7)} ${"max".padStart(7)}`,
    );
    for (const [label, s] of Object.entries(r.pages))
      lines.push(
        `${label.padEnd(40)} ${String(s.count).padStart(5)} ${fmt(s.p50).padStart(7)} ${fmt(s.p99).padStart(7)} ${fmt(s.max).padStart(7)}`,
      );
    const worst = Math.max(...Object.values(r.pages).map((s) => s.p99));
    lines.push(
      `${"ranking built (domain, nothing cached)".padEnd(40)} ${String(r.ranking.count).padStart(5)} ${fmt(r.ranking.p50).padStart(7)} ${fmt(r.ranking.p99).padStart(7)} ${fmt(r.ranking.max).padStart(7)}`,
      `p99 of a page under ${PAGE_P99_GOAL_MS} ms: worst ${fmt(worst)} ms: ${worst < PAGE_P99_GOAL_MS ? "met" : "NOT met"}`,
    );
  }
  process.stdout.write(`${lines.join("\n")}\n`);
}

if (import.meta.main) {
  const { mkdirSync, rmSync } = await import("node:fs");
  const { resolve } = await import("node:path");
  const { machine, printMachine } = await import("./report.ts");
  const scratch = resolve(".test-data", `bench-directory-${Date.now()}`);
  mkdirSync(scratch, { recursive: true });
  try {
    const runs = await directoryBench(scratch, (line) => process.stderr.write(`${line}\n`));
    printMachine(machine("(not used)"));
    printDirectory(runs);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  process.exit(0);
}
