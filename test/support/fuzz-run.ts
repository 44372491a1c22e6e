// Drives fuzz frames into a running Parley, one at a time (so a seed replays exactly), over a few
// sessions in different states (never authenticated, a token user, a guest), and checks each
// answer: one reply per frame, only documented error codes, never server.fatal, closes only where
// a frame was over the size limit, and a frame answered with an error changed nothing in the store.
import { decode as decodeMsgpack } from "@msgpack/msgpack";
import Database from "better-sqlite3";
import WebSocket from "ws";
import { ERROR_CODES } from "../../src/protocol/errors.ts";
import type { FuzzFrame } from "./fuzz-frames.ts";

export interface FuzzTarget {
  readonly url: string;
  /** Parley's SQLite database, read (read-only) to check that refused frames changed nothing. */
  readonly dbPath: string;
  /** Credentials of the sessions that start authenticated. */
  readonly logins: ReadonlyArray<Record<string, unknown>>;
  /** True while the server process runs. */
  readonly alive: () => boolean;
}

export interface FuzzReport {
  frames: number;
  replies: number;
  checked: number;
  byCode: Record<string, number>;
  successes: number;
  closes1009: number;
  /** Everything that should never happen, described. */
  failures: string[];
  seconds: number;
}

const REPLY_TIMEOUT_MS = 20_000;
const KNOWN_CODES = new Set(Object.keys(ERROR_CODES));
/** Successes of these change nothing in the store: they do not end a comparison window. */
const READ_ONLY = new Set([
  "chat.fetch",
  "chat.members",
  "chat.media",
  "user.fetch",
  "user.list.blocked",
  "chat.typing",
]);
/** Matrix echoes rewrite these as they arrive, whatever the fuzzer does: left out of the digest. */
// Leases come and go as the outbox and inbox work, whatever the frames were.
// Presence changes with Matrix users' EDUs and other connections, whatever the frames were.
const VOLATILE = new Set([
  "inbox",
  "outbox",
  "meta",
  "registered_puppets",
  "sqlite_sequence",
  "leases",
  "user_presence",
]);
const VOLATILE_COLUMNS: Record<string, ReadonlySet<string>> = {
  members: new Set(["updated_at", "last_seen", "display_name", "avatar_url"]),
  channels: new Set([
    "join_rule",
    "power_levels",
    "topic",
    "room_name",
    "avatar_url",
    "backfill_token",
    "backfill_done",
  ]),
  read_pointers: new Set(["updated_at"]),
  // Learnt when the outbox has mirrored a native event, whenever that is.
  events: new Set(["matrix_event_id"]),
  reactions: new Set(["matrix_event_id"]),
  // Kept in step with the homeserver whenever a puppet is prepared, even for a send that then fails.
  native_users: new Set(["matrix_display_name"]),
};

type Frame = unknown[];

interface Digest {
  /** Cheap: changes whenever anyone committed a write since the last call. */
  readonly version: number;
  /**
   * What Parley does on its own, unasked: Matrix events through the inbox, the outbox mirroring
   * (and withdrawing what the homeserver refused), timeouts ending.
   */
  readonly inbox: string;
  readonly outbox: string;
  readonly nextTimeoutEnd: number;
  /** Per table, a hash of what a refused frame must leave alone. */
  readonly tables: Record<string, string>;
}

/** Digests of the store: `version` to skip unchanged states, table hashes to compare them. */
function digester(dbPath: string): { version(): number; digest(): Digest } {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  const dataVersion = db.prepare("PRAGMA data_version").pluck();
  const inbox = db
    .prepare("SELECT count(*) || '/' || coalesce(max(id), 0) || '/' || sum(status = 'pending') FROM inbox")
    .pluck();
  const outbox = db
    .prepare("SELECT count(*) || '/' || coalesce(max(id), 0) || '/' || sum(state = 'pending') FROM outbox")
    .pluck();
  const nextTimeoutEnd = db.prepare("SELECT coalesce(min(until), 9e15) FROM timeouts").pluck();
  const tables = (
    db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as Array<{
      name: string;
    }>
  )
    .map((t) => t.name)
    .filter((name) => !VOLATILE.has(name));
  // An order-free checksum per table, computed inside SQLite: the sum of a 32-bit hash of each row.
  db.function("row_hash", { deterministic: true }, (text: unknown) => {
    let hash = 0x811c9dc5;
    const s = String(text);
    for (let i = 0; i < s.length; i++) hash = Math.imul(hash ^ s.charCodeAt(i), 0x01000193) >>> 0;
    return hash;
  });
  const queries = tables.map((table): [string, Database.Statement] => {
    const skip = VOLATILE_COLUMNS[table] ?? new Set<string>();
    const columns = (db.prepare(`PRAGMA table_info(${table})`).all() as Array<{ name: string }>)
      .map((c) => c.name)
      .filter((c) => !skip.has(c));
    return [
      table,
      db
        .prepare(`SELECT count(*) || ':' || total(row_hash(json_array(${columns.join(", ")}))) FROM ${table}`)
        .pluck(),
    ];
  });
  const version = () => dataVersion.get() as number;
  // One read transaction: every part of a digest from the same snapshot. Read piece by piece, a
  // commit of Parley's own (an outbox refusal withdrawn) could land between the outbox summary
  // and the tables, and a refused frame would seem to have changed them.
  const snapshot = db.transaction((): Digest => {
    const hashes: Record<string, string> = {};
    for (const [table, query] of queries) hashes[table] = String(query.get());
    return {
      version: version(),
      inbox: String(inbox.get()),
      outbox: String(outbox.get()),
      nextTimeoutEnd: Number(nextTimeoutEnd.get()),
      tables: hashes,
    };
  });
  return { version, digest: () => snapshot() };
}

/**
 * Maps Parley sends are keyed by names users chose (reaction keys, channel names), and one may be
 * `__proto__`, which @msgpack/msgpack 3 refuses to decode (docs/protocol.md says decoders must take
 * any key). The fuzzer only reads the reply's kind and ref: such a key is renamed to one of the same
 * length before decoding.
 */
const PROTO_KEY = Buffer.from([0xa9, ...Buffer.from("__proto__")]);
const RENAMED_KEY = Buffer.from([0xa9, ...Buffer.from("__proto_x")]);
function decodeMsgpackAnyKey(data: Buffer): unknown {
  if (data.indexOf(PROTO_KEY) === -1) return decodeMsgpack(data);
  const copy = Buffer.from(data);
  for (let at = copy.indexOf(PROTO_KEY); at !== -1; at = copy.indexOf(PROTO_KEY, at + 1)) {
    RENAMED_KEY.copy(copy, at);
  }
  return decodeMsgpack(copy);
}

const changedTables = (a: Digest, b: Digest) =>
  Object.keys(a.tables).filter((table) => a.tables[table] !== b.tables[table]);

/**
 * Whether Parley changed the store on its own during the window: it processed Matrix events (the
 * echo of an earlier success), mirrored or withdrew native actions, or a timeout ran out. Such a window
 * says nothing about the refused frame in it.
 */
const busyOnItsOwn = (before: Digest, after: Digest) =>
  before.inbox !== after.inbox || before.outbox !== after.outbox || before.nextTimeoutEnd <= Date.now();

class Session {
  ws: WebSocket | undefined;
  authenticated = false;
  readonly #waiting: Array<(frame: Frame) => void> = [];
  #closed: ((code: number) => void) | undefined;
  lastClose: number | undefined;

  readonly url: string;
  readonly login: Record<string, unknown> | undefined;

  constructor(url: string, login: Record<string, unknown> | undefined) {
    this.url = url;
    this.login = login;
  }

  async open(): Promise<void> {
    const ws = new WebSocket(this.url);
    this.ws = ws;
    this.authenticated = false;
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    ws.on("error", () => undefined);
    ws.on("message", (data, isBinary) => {
      let frame: Frame;
      try {
        frame = (isBinary ? decodeMsgpackAnyKey(data as Buffer) : JSON.parse(data.toString())) as Frame;
      } catch (error) {
        // Said in full: a reply the client cannot read is a failure worth looking into.
        const bytes = Buffer.isBuffer(data) ? data : Buffer.from(data as ArrayBuffer);
        frame = [
          "(unreadable)",
          `${isBinary ? "binary" : "text"} ${bytes.length} bytes: ${String(error).slice(0, 120)}; starts ${bytes.subarray(0, 60).toString("hex")}`,
        ];
      }
      if (!Array.isArray(frame)) frame = ["(not an array)", frame];
      // Pushes are not answers: only replies wake the sender.
      if (
        ["success", "error", "authenticated", "pong", "(unreadable)", "(not an array)"].includes(
          String(frame[0]),
        )
      ) {
        this.#waiting.shift()?.(frame);
      }
    });
    ws.on("close", (code) => {
      this.lastClose = code;
      this.#closed?.(code);
    });
    if (this.login) {
      const reply = await this.exchange(JSON.stringify(["authenticate", this.login]));
      if (reply?.[0] !== "authenticated") throw new Error(`fuzz login failed: ${JSON.stringify(reply)}`);
      this.authenticated = true;
    }
  }

  /** Sends and waits for the one reply; undefined on a close or a timeout. */
  exchange(data: string | Uint8Array): Promise<Frame | undefined> {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const timer = setTimeout(() => done(undefined), REPLY_TIMEOUT_MS);
      const done = (frame: Frame | undefined) => {
        clearTimeout(timer);
        this.#closed = undefined;
        resolve(frame);
      };
      this.#waiting.push(done);
      this.#closed = () => done(undefined);
      ws.send(data);
    });
  }

  /** Sends a frame over the limit and waits for the server to close. */
  expectClose(data: string | Uint8Array): Promise<number | undefined> {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(undefined), REPLY_TIMEOUT_MS);
      this.#closed = (code) => {
        clearTimeout(timer);
        resolve(code);
      };
      ws.send(data);
    });
  }

  close(): void {
    this.ws?.terminate();
  }
}

export async function runFuzz(
  target: FuzzTarget,
  frames: Iterable<FuzzFrame>,
  options: { checkEvery?: number; onProgress?: (report: FuzzReport) => void } = {},
): Promise<FuzzReport> {
  const checkEvery = options.checkEvery ?? 1;
  const store = digester(target.dbPath);
  /** The digest now, recomputed only when someone wrote since `known`. */
  const current = (known: Digest | undefined): Digest =>
    known !== undefined && store.version() === known.version ? known : store.digest();
  const sessions = [
    new Session(target.url, undefined),
    ...target.logins.map((login) => new Session(target.url, login)),
  ];
  for (const session of sessions) await session.open();
  const report: FuzzReport = {
    frames: 0,
    replies: 0,
    checked: 0,
    byCode: {},
    successes: 0,
    closes1009: 0,
    failures: [],
    seconds: 0,
  };
  const fail = (message: string) => {
    if (report.failures.length < 50) report.failures.push(message);
  };
  const started = performance.now();
  let before: Digest | undefined;
  let errorsSinceCheck = 0;
  const show = (frame: FuzzFrame) =>
    `${frame.action} ${typeof frame.data === "string" ? frame.data.slice(0, 160) : `<${frame.data.length} bytes>`}`;

  /** Reconnects a session; false when the server can no longer be reached (then the run ends). */
  const reopen = async (session: Session, after: string): Promise<boolean> => {
    try {
      await session.open();
      return true;
    } catch (error) {
      fail(
        `cannot reconnect after ${after} (server process ${target.alive() ? "running" : "gone"}): ${String(error)}`,
      );
      return false;
    }
  };

  for (const frame of frames) {
    const session = sessions[report.frames % sessions.length] as Session;
    report.frames += 1;
    if (session.ws?.readyState !== WebSocket.OPEN && !(await reopen(session, "a close"))) break;
    if (frame.oversize) {
      const code = await session.expectClose(frame.data);
      if (code === 1009) report.closes1009 += 1;
      else fail(`an oversize frame was answered with ${code ?? "nothing"} instead of close 1009`);
      before = undefined;
      if (!(await reopen(session, show(frame)))) break;
      continue;
    }
    const check = errorsSinceCheck % checkEvery === 0;
    if (check) before = current(before);
    const reply = await session.exchange(frame.data);
    if (!reply) {
      fail(`no reply (close ${session.lastClose ?? "none"}) to ${show(frame)}`);
      before = undefined;
      if (!(await reopen(session, show(frame)))) break;
      continue;
    }
    report.replies += 1;
    const [kind] = reply;
    if (kind === "error") {
      const payload = (reply.length === 3 ? reply[2] : reply[1]) as { code?: unknown } | undefined;
      const code = String(payload?.code);
      report.byCode[code] = (report.byCode[code] ?? 0) + 1;
      if (!KNOWN_CODES.has(code)) fail(`undocumented code ${code} for ${show(frame)}`);
      if (code === "server.fatal") fail(`server.fatal for ${show(frame)}`);
      errorsSinceCheck += 1;
      if (check && before !== undefined) {
        const after = current(before);
        if (!busyOnItsOwn(before, after)) {
          report.checked += 1;
          const changed = changedTables(before, after);
          if (changed.length > 0)
            fail(`refused with ${code} but ${changed.join(", ")} changed: ${show(frame)}`);
        }
        before = after;
      }
    } else if (kind === "success" || kind === "authenticated") {
      report.successes += 1;
      if (kind === "authenticated") session.authenticated = true;
      if (!READ_ONLY.has(frame.action)) before = undefined;
    } else if (kind === "pong") {
      const ts = reply[1];
      if (!(ts === null || typeof ts === "number" || (typeof ts === "string" && ts.length <= 64))) {
        fail(`pong echoed ${JSON.stringify(ts).slice(0, 80)}`);
      }
    } else {
      fail(`unexpected reply ${JSON.stringify(reply).slice(0, 400)} to ${show(frame)}`);
    }
    // The unauthenticated session stays so: a fuzzed login there is undone.
    if (session.login === undefined && session.authenticated) {
      session.close();
      if (!(await reopen(session, "a fuzzed login"))) break;
    }
    if (report.frames % 5_000 === 0) {
      if (!target.alive()) fail(`the server process is gone after ${report.frames} frames`);
      options.onProgress?.({ ...report, seconds: (performance.now() - started) / 1000 });
    }
  }
  if (!target.alive()) fail("the server process is gone");
  // Still serving: a fresh connection gets a pong.
  const probe = new Session(target.url, undefined);
  if (await reopen(probe, "the run")) {
    const pong = await probe.exchange(JSON.stringify(["ping", 1]));
    if (pong?.[0] !== "pong") fail("a fresh connection got no pong after the run");
    probe.close();
  }
  for (const session of sessions) session.close();
  report.seconds = (performance.now() - started) / 1000;
  return report;
}
