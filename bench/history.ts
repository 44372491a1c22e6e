// History: chat.fetch from a channel with 100,000 messages. The messages are written straight into
// Parley's SQLite log while Parley is stopped (posting them through Matrix would take an hour), then
// one connection pages through them with random `before_id`s and asks for the newest page.
import Database from "better-sqlite3";
import type { TestClient } from "../test/support/client.ts";
import { progress, type Stack, userIdOf } from "./stack.ts";

export const HISTORY_EVENTS = 100_000;
export const RANDOM_FETCHES = 1_000;
export const NEWEST_FETCHES = 200;
export const PAGE = 50;
const CHANNEL = "bench_history";

export interface HistoryResult {
  /** The channel's newest event id once the synthetic messages are in. */
  readonly maxId: number;
  readonly insertMs: number;
  /** ms per chat.fetch with a random before_id. */
  readonly random: number[];
  /** ms per chat.fetch of the newest page. */
  readonly newest: number[];
}

/** A small seeded PRNG (mulberry32), so every run asks for the same pages. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The database and statements of insertMessages, kept referenced until the process exits: with
 * Node 24, better-sqlite3 12 can abort the process (SIGABRT, "Assertion failed: (env) != nullptr" in
 * RemoveEnvironmentCleanupHook) when the garbage collector finalizes a Statement mid-run.
 */
const retained: unknown[] = [];

/** Appends HISTORY_EVENTS channel.message events to CHANNEL's log in one transaction. */
function insertMessages(sqlitePath: string, sender: string): { maxId: number } {
  const db = new Database(sqlitePath);
  const channelQuery = db.prepare("SELECT id FROM channels WHERE name = ?");
  const lastQuery = db.prepare(
    "SELECT COALESCE(MAX(seq), 0) AS seq, COALESCE(MAX(ts), 0) AS ts FROM events WHERE channel_id = ?",
  );
  const insert = db.prepare(
    "INSERT INTO events (channel_id, seq, matrix_event_id, event_type, sender, content, ts) " +
      "VALUES (?, ?, ?, 'channel.message', ?, ?, ?)",
  );
  retained.push(db, channelQuery, lastQuery, insert);
  try {
    const channel = channelQuery.get(CHANNEL) as { id: number } | undefined;
    if (!channel) throw new Error(`channel ${CHANNEL} is not in ${sqlitePath}`);
    const last = lastQuery.get(channel.id) as { seq: number; ts: number };
    const baseTs = Math.max(last.ts, Date.now() - HISTORY_EVENTS * 10);
    const insertAll = db.transaction(() => {
      for (let n = 1; n <= HISTORY_EVENTS; n++) {
        const body = `message ${n} of the history benchmark, about as long as a chat line`;
        const content = JSON.stringify({ type: "text", body });
        insert.run(channel.id, last.seq + n, `$bench-${n}`, sender, content, baseTs + n * 10);
      }
    });
    retained.push(insertAll);
    insertAll();
    return { maxId: last.seq + HISTORY_EVENTS };
  } finally {
    db.close();
  }
}

/** One chat.fetch; checks the page is PAGE events with consecutive ids (ending at `lastId` if given). */
async function timedFetch(client: TestClient, payload: Record<string, unknown>, lastId?: number) {
  const t0 = performance.now();
  const result = await client.ok("chat.fetch", payload);
  const ms = performance.now() - t0;
  const ids = (result.results as Array<{ event_id: number }>).map((e) => e.event_id);
  const first = ids[0] ?? Number.NaN;
  const wrong =
    ids.length !== PAGE ||
    ids.some((id, i) => id !== first + i) ||
    (lastId !== undefined && ids[ids.length - 1] !== lastId);
  if (wrong) {
    throw new Error(
      `chat.fetch ${JSON.stringify(payload)} returned ${ids.length} events with ids ` +
        `${ids.slice(0, 3).join(",")}...${ids.slice(-3).join(",")}; expected ${PAGE} consecutive` +
        (lastId === undefined ? "" : ` ending at ${lastId}`),
    );
  }
  return { ms, lastId: ids[ids.length - 1] as number };
}

export async function historyBench(stack: Stack): Promise<HistoryResult> {
  const owner = await stack.login("bench_h", "Bench H");
  await owner.ok("chat.join", { channel: CHANNEL });
  const sender = userIdOf(owner);
  owner.close();

  let maxId = 0;
  let insertMs = 0;
  await stack.withParleyStopped(() => {
    progress(`inserting ${HISTORY_EVENTS} messages into ${CHANNEL}`);
    const t0 = performance.now();
    ({ maxId } = insertMessages(stack.sqlitePath, sender));
    insertMs = performance.now() - t0;
  });

  const reader = await stack.login("bench_h", "Bench H");
  const random = seededRandom(0x9a41e7);
  const randomMs: number[] = [];
  for (let i = 0; i < RANDOM_FETCHES; i++) {
    const before = 51 + Math.floor(random() * (maxId - 50)); // 51..maxId
    const { ms } = await timedFetch(reader, { channel: CHANNEL, count: PAGE, before_id: before }, before - 1);
    randomMs.push(ms);
    if ((i + 1) % 250 === 0) progress(`fetch before_id ${i + 1}/${RANDOM_FETCHES}`);
  }
  const newestMs: number[] = [];
  let newestId: number | undefined;
  for (let i = 0; i < NEWEST_FETCHES; i++) {
    // Nothing is written to this channel meanwhile: every newest page must end at the same id.
    const { ms, lastId } = await timedFetch(reader, { channel: CHANNEL, count: PAGE }, newestId);
    if (lastId < maxId) throw new Error(`the newest page ends at ${lastId}, below ${maxId}`);
    newestId = lastId;
    newestMs.push(ms);
  }
  progress(`fetch newest ${NEWEST_FETCHES}/${NEWEST_FETCHES}`);
  reader.close();
  return { maxId, insertMs, random: randomMs, newest: newestMs };
}
