// Property-based testing of the server API: schemathesis (scripts/schemathesis.sh, a pinned release
// from PyPI) reads the OpenAPI document a live Parley serves and sends it generated requests, valid
// and invalid, with a deterministic seed. Every answer must be a documented status with a JSON body
// that matches its schema, and none a 5xx. Parley runs as a process against the run's Synapse, with
// a small world to aim at (channels, native users, webhooks) that the generated requests draw names
// from half the time; the other half are generated names, mostly unknown ones.
import { execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { stringify as toYaml } from "yaml";
import { signToken } from "../../src/auth/jwt.ts";
import { type Api, apiClient } from "../support/api.ts";
import { TestClient } from "../support/client.ts";
import { TEST_LIMITS } from "../support/limits.ts";
import { logTail, type ParleyProcess, startParleyProcess } from "../support/parley-process.ts";
import { freePort } from "../support/synapse.ts";

const REPO_ROOT = resolve(import.meta.dirname, "../..");
const SCRIPT = join(REPO_ROOT, "scripts", "schemathesis.sh");
const SEED = Number(process.env.PARLEY_SCHEMATHESIS_SEED ?? 20261213);
const EXAMPLES = Number(process.env.PARLEY_SCHEMATHESIS_EXAMPLES ?? 50);
const CHECKS = [
  "not_a_server_error",
  "response_schema_conformance",
  "status_code_conformance",
  "content_type_conformance",
];

/**
 * The operations on a `{channel}` that leave it as it is for the others: putChannel (whose settings,
 * a required claim or rules, would shut the integration and the hooks out) and closeChannel have
 * channels of their own.
 */
const CHANNEL_OPERATIONS = [
  "getChannel",
  "listMembers",
  "addMember",
  "removeMember",
  "postMessage",
  "listMessages",
  "moderate",
  "createWebhook",
  "listWebhooks",
];

/** Runs a command to its end; rejects with its output unless it exits 0. */
function run(command: string, args: readonly string[]): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    execFile(command, args, { cwd: REPO_ROOT, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} ${args.join(" ")} failed: ${stdout}${stderr}`));
      else resolvePromise(stdout);
    });
  });
}

/** Runs schemathesis, its output into `logPath`; resolves with its exit code. */
function schemathesis(args: readonly string[], cwd: string, logPath: string): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const log = createWriteStream(logPath);
    const child = spawn("bash", [SCRIPT, "run", ...args], {
      cwd,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, NO_COLOR: "1", COLUMNS: "120" },
    });
    child.stdout.pipe(log, { end: false });
    child.stderr.pipe(log, { end: false });
    child.once("error", reject);
    child.once("close", (code, signal) => {
      log.end(() => resolvePromise(code ?? (signal ? 128 : 1)));
    });
  });
}

let parley: ParleyProcess | undefined;
let root: string;
let logPath: string;
let httpUrl: string;
let configPath: string;
let dbPath: string;
let adminKey: string;
let readKey: string;
let toml: string;

const createKey = async (name: string, scope: string): Promise<string> => {
  const out = await run(process.execPath, [
    "--disable-warning=DEP0060",
    "src/main.ts",
    "api-key",
    "create",
    "--name",
    name,
    "--scope",
    scope,
    "--config",
    configPath,
  ]);
  const key = out.trim().split("\n").at(-1) ?? "";
  expect(key).toMatch(/^parley_/);
  return key;
};

/** A TOML string (JSON's escapes are TOML's for what we write). */
const q = (value: string) => JSON.stringify(value);
const list = (values: readonly string[]) => `[${values.map(q).join(", ")}]`;

beforeAll(async () => {
  const env = inject("e2e");
  await run("bash", [SCRIPT, "install"]);
  const suffix = randomBytes(3).toString("hex");
  root = env.root;
  const gatewayPort = await freePort();
  configPath = join(root, `schemathesis-${suffix}.yaml`);
  logPath = join(root, `schemathesis-${suffix}.log`);
  httpUrl = `http://127.0.0.1:${gatewayPort}`;
  dbPath = join(root, `schemathesis-${suffix}.db`);
  const generous = { burst: 100_000, per_minute: 1_000_000 };
  writeFileSync(
    configPath,
    toYaml({
      homeserver: { url: env.homeserverUrl, server_name: env.serverName },
      appservice: {
        registration: env.registrationPath,
        port: env.appservicePort,
        url: `http://127.0.0.1:${env.appservicePort}`,
      },
      gateway: { port: gatewayPort, public_url: httpUrl },
      auth: { jwt_secret: env.jwtSecret, guests: true },
      store: { sqlite_path: dbPath },
      // Each key and each hook has its own limits: schemathesis is one key, at full speed.
      limits: { ...TEST_LIMITS, api_requests: generous, webhook_posts: generous },
      log: { level: "warn" },
    }),
  );
  parley = await startParleyProcess(configPath, logPath, `ws://127.0.0.1:${gatewayPort}/chat`);
  adminKey = await createKey("Schemathesis", "admin");
  readKey = await createKey("Schemathesis reader", "read");
  const admin: Api = apiClient(httpUrl, adminKey);

  // The world: native users in a public channel with history, an invite-only one, channels to
  // close, and webhooks to post through and to delete.
  const users = [`alice_${suffix}`, `bob_${suffix}`];
  const open = `sch_open_${suffix}`;
  const invited = `sch_private_${suffix}`;
  const doomed = [1, 2, 3].map((n) => `sch_doomed${n}_${suffix}`);
  for (const [name, body] of [
    [open, { topic: "Schemathesis", public: true }],
    [invited, { public: false }],
    ...doomed.map((name) => [name, {}] as const),
  ] as const) {
    const created = await admin("PUT", `/api/v1/channels/${name}`, body);
    expect(created.status, JSON.stringify(created.body)).toBe(201);
  }
  for (const user of users) {
    const client = await TestClient.login(`ws://127.0.0.1:${gatewayPort}/chat`, {
      token: await signToken(env.jwtSecret, { sub: user, name: user }),
    });
    await client.ok("chat.join", { channel: open });
    await client.say(open, `hello from ${user}`);
    client.close();
  }
  expect((await admin("PUT", `/api/v1/channels/${invited}/members/${users[0]}`)).status).toBe(200);
  const hooks = [];
  for (const name of ["Posting hook", "Doomed hook"]) {
    const made = await admin<{ id: string; url: string }>("POST", `/api/v1/channels/${open}/webhooks`, {
      name,
    });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    hooks.push({ id: made.body.id, secret: made.body.url.split("/").at(-1) ?? "" });
  }
  const [posting, deletable] = hooks as [{ id: string; secret: string }, { id: string; secret: string }];

  const userIds = [...users, ...users.map((user) => `@chat_${user}:${env.serverName}`), "@carol:localhost"];
  toml = `# Written by test/e2e/schemathesis.test.ts: names that exist, for half the generated requests.
[dictionaries.channels]
values = ${list([open, open, invited])}

[dictionaries.doomed]
values = ${list(doomed)}

[dictionaries.users]
values = ${list(userIds)}

[dictionaries.natives]
values = ${list(users)}

[dictionaries.hooks]
values = ${list([posting.id])}

[dictionaries.secrets]
values = ${list([posting.secret])}

[dictionaries.deletable]
values = ${list([deletable.id])}

[parameters]
"path.user" = { dictionary = "users", probability = 0.5 }
"body.user" = { dictionary = "users", probability = 0.5 }
"body.as" = { dictionary = "natives", probability = 0.5 }

[[operations]]
include-operation-id = ${list(CHANNEL_OPERATIONS)}
parameters = { "path.channel" = { dictionary = "channels", probability = 0.5 } }

[[operations]]
include-operation-id = ["putChannel", "closeChannel"]
parameters = { "path.channel" = { dictionary = "doomed", probability = 0.5 } }

[[operations]]
include-operation-id = "deleteWebhook"
parameters = { "path.channel" = { dictionary = "channels", probability = 0.5 }, "path.id" = { dictionary = "deletable", probability = 0.5 } }

[[operations]]
include-operation-id = "postToWebhook"
parameters = { "path.id" = { dictionary = "hooks", probability = 0.8 }, "path.secret" = { dictionary = "secrets", probability = 0.8 } }
`;
}, 180_000);

afterAll(async () => {
  await parley?.stop();
});

interface HarEntry {
  readonly request: { readonly method: string; readonly url: string };
  readonly response: { readonly status: number };
}

interface DocumentedOperation {
  readonly method: string;
  readonly pattern: RegExp;
  readonly operationId: string;
}

/** The operations the served document lists. */
async function documented(): Promise<DocumentedOperation[]> {
  const doc = (await (await fetch(`${httpUrl}/api/v1/openapi.json`)).json()) as {
    paths: Record<string, Record<string, { operationId: string }>>;
  };
  return Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, { operationId }]) => ({
      method: method.toUpperCase(),
      pattern: new RegExp(`^${path.replace(/\{\w+\}/g, "[^/]+")}$`),
      operationId,
    })),
  );
}

/** The operations that answered a request of the run `label` with a 2xx. */
function succeeded(operations: readonly DocumentedOperation[], label: string): Set<string> {
  const har = JSON.parse(readFileSync(join(root, `schemathesis-${label}.har`), "utf8")) as {
    log: { entries: HarEntry[] };
  };
  const ids = new Set<string>();
  for (const { request, response } of har.log.entries) {
    if (response.status < 200 || response.status > 299) continue;
    const path = new URL(request.url).pathname;
    const found = operations.find((op) => op.method === request.method && op.pattern.test(path));
    if (found) ids.add(found.operationId);
  }
  return ids;
}

/** One schemathesis run with `key`; fails with its output unless it passes. */
async function runWith(key: string, label: string, only: readonly string[] = []): Promise<void> {
  const configFile = join(root, `schemathesis-${label}.toml`);
  writeFileSync(configFile, toml);
  const output = join(root, `schemathesis-${label}.out`);
  const args = [
    "--config-file",
    configFile,
    "run",
    `${httpUrl}/api/v1/openapi.json`,
    "--header",
    `Authorization: Bearer ${key}`,
    ...only,
    "--checks",
    CHECKS.join(","),
    "--max-examples",
    String(EXAMPLES),
    "--seed",
    String(SEED),
    "--generation-database",
    "none",
    // One worker: Python 3.11's ast.parse, which Hypothesis calls to describe its strategies, is
    // not safe in two threads at once (SystemError "AST constructor recursion depth mismatch").
    "--workers",
    "1",
    // A request Parley never answers fails the run, not the test's timeout.
    "--request-timeout",
    "20",
    "--no-color",
    // Every request and answer, for a look after a failure (PARLEY_KEEP_TEST_DATA=1 keeps it).
    "--report",
    "har",
    "--report-har-path",
    join(root, `schemathesis-${label}.har`),
  ];
  const started = Date.now();
  const code = await schemathesis(args, root, output);
  const text = logTail(output, 100_000);
  console.log(`schemathesis (${label}): exit ${code} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  expect(code, `schemathesis ${args.join(" ")}\n${text}`).toBe(0);
}

const POSTS = ["postMessage", "postToWebhook", "listMessages"];

describe("schemathesis against a live Parley", () => {
  // Schemathesis also reuses names that answers showed it (and follows PUT to DELETE, so the
  // world wears down as it goes): posting runs first, on a world as it was made, and closing
  // channels last, so that every other operation finds its channels open.
  it("with an admin key, posting: no 5xx, every answer documented and matching its schema", async () => {
    await runWith(
      adminKey,
      "posts",
      POSTS.flatMap((id) => ["--include-operation-id", id]),
    );
    expect(parley?.bugs()).toEqual([]);
  }, 300_000);

  it("with an admin key, everything but closing channels", async () => {
    await runWith(adminKey, "admin", ["--exclude-operation-id", "closeChannel"]);
    expect(parley?.bugs()).toEqual([]);
  }, 300_000);

  it("with a read key: refusals are documented too", async () => {
    await runWith(readKey, "read");
    expect(parley?.bugs()).toEqual([]);
  }, 300_000);

  it("with an admin key, closing channels", async () => {
    await runWith(adminKey, "close", ["--include-operation-id", "closeChannel"]);
    expect(parley?.bugs()).toEqual([]);
  }, 300_000);

  it("reached every operation's success, not only its refusals", async () => {
    const operations = await documented();
    const reached = new Set(
      ["posts", "admin", "close"].flatMap((label) => [...succeeded(operations, label)]),
    );
    expect(operations.length).toBeGreaterThan(10);
    expect(operations.map((op) => op.operationId).filter((id) => !reached.has(id))).toEqual([]);
  });

  it("Matrix took everything the accepted requests logged", async () => {
    const db = new Database(dbPath, { readonly: true });
    try {
      const outbox = (state: string) =>
        db
          .prepare(
            "SELECT o.id, c.name AS channel, o.kind, o.actor, o.payload, o.last_error FROM outbox o " +
              "JOIN channels c ON c.id = o.channel_id WHERE o.state = ? ORDER BY o.id",
          )
          .all(state);
      await expect.poll(() => outbox("pending").length, { timeout: 60_000, interval: 500 }).toBe(0);
      expect(outbox("refused")).toEqual([]);
    } finally {
      db.close();
    }
  }, 90_000);
});
