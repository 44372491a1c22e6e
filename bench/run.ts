// Latency benchmark: one message from user A until user B has it, sequentially, through
//   native: A's WebSocket chat.send -> Parley -> Synapse -> Parley -> B's WebSocket chat.event
//   matrix: A's PUT /send -> Synapse -> B's long-poll /sync
// against a fresh Synapse and Parley (a child process) in a scratch dir. `node bench/run.ts`;
// BENCH_MESSAGES sets the number of measured messages (default 500, after 20 warm-up ones).
import { randomBytes } from "node:crypto";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join, resolve } from "node:path";
import { stringify as toYaml } from "yaml";
import { signToken } from "../src/auth/jwt.ts";
import { parseConfig } from "../src/config/load.ts";
import { buildRegistration, registrationYaml } from "../src/matrix/registration.ts";
import { TestClient } from "../test/support/client.ts";
import type { SynapseHandle } from "../test/support/synapse.ts";
import { freePort, registerMatrixUser, startSynapse } from "../test/support/synapse.ts";
import { matrixRequest, RoomSync } from "./matrix-sync.ts";
import { logTail, startParleyProcess } from "../test/support/parley-process.ts";
import { formatTable, type Summary, summarize } from "./stats.ts";

const WARMUP = 20;
const DELIVERY_TIMEOUT_MS = 10_000;
const SYNAPSE_VERSION = "1.163.2";
const CHANNEL = "bench";

/** Cleanups run in reverse order of registration, each at most once, errors reported not thrown. */
const cleanups: Array<{ name: string; run: () => Promise<void> | void }> = [];
async function cleanUp(): Promise<void> {
  while (cleanups.length > 0) {
    const step = cleanups.pop();
    try {
      await step?.run();
    } catch (error) {
      process.stderr.write(`bench: cleanup "${step?.name}" failed: ${(error as Error).message}\n`);
    }
  }
}

function messageCount(): number {
  const raw = process.env.BENCH_MESSAGES;
  if (raw === undefined || raw === "") return 500;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 100_000)
    throw new Error(`BENCH_MESSAGES must be 1-100000, got "${raw}"`);
  return n;
}

/** Runs WARMUP uncounted then `n` counted round trips, one after the other; returns the counted ms. */
async function series(
  label: string,
  n: number,
  roundTrip: (body: string) => Promise<number>,
): Promise<number[]> {
  const run = randomBytes(4).toString("hex");
  const samples: number[] = [];
  for (let i = 0; i < WARMUP + n; i++) {
    const ms = await roundTrip(`${label} ${run} #${i}`);
    if (i >= WARMUP) samples.push(ms);
    const done = i + 1 - WARMUP;
    if (done > 0 && (done % 100 === 0 || done === n)) process.stderr.write(`bench: ${label} ${done}/${n}\n`);
  }
  return samples;
}

interface Setup {
  hsUrl: string;
  gatewayUrl: string;
  jwtSecret: string;
}

async function setUp(scratch: string): Promise<Setup> {
  const [hsPort, asPort, gwPort] = [await freePort(), await freePort(), await freePort()];
  const hsUrl = `http://127.0.0.1:${hsPort}`;
  const jwtSecret = randomBytes(32).toString("hex");
  const raw = {
    homeserver: { url: hsUrl, server_name: "localhost" },
    appservice: { registration: "./registration.yaml", port: asPort, url: `http://127.0.0.1:${asPort}` },
    gateway: { bind: "127.0.0.1", port: gwPort, path: "/chat" },
    auth: { jwt_secret: jwtSecret, guests: false },
    store: { sqlite_path: "./parley.db" },
    log: { level: "warn" },
  };
  const configPath = join(scratch, "parley.yaml");
  writeFileSync(configPath, toYaml(raw), { mode: 0o600 });
  const config = parseConfig(raw, scratch);
  writeFileSync(config.appservice.registrationPath, registrationYaml(buildRegistration(config)), {
    mode: 0o600,
  });

  process.stderr.write(`bench: starting Synapse on ${hsUrl}\n`);
  const synapse: SynapseHandle = await startSynapse({
    dataDir: join(scratch, "synapse"),
    port: hsPort,
    registrationPath: config.appservice.registrationPath,
  });
  cleanups.push({ name: "stop Synapse", run: () => synapse.stop() });

  const gatewayUrl = `ws://127.0.0.1:${gwPort}/chat`;
  const logPath = join(scratch, "parley.log");
  process.stderr.write(`bench: starting Parley (gateway ${gatewayUrl})\n`);
  const parley = await startParleyProcess(configPath, logPath, gatewayUrl);
  cleanups.push({
    name: "stop Parley",
    run: async () => {
      await parley.stop();
      const log = logTail(logPath).trim();
      if (log.split("\n").length > 1) process.stderr.write(`bench: Parley's log (level warn):\n${log}\n`);
    },
  });
  return { hsUrl, gatewayUrl, jwtSecret };
}

async function nativeBench({ gatewayUrl, jwtSecret }: Setup, n: number): Promise<number[]> {
  const login = async (sub: string, name: string) => {
    const client = await TestClient.login(gatewayUrl, { token: await signToken(jwtSecret, { sub, name }) });
    cleanups.push({ name: `close ${sub}`, run: () => client.close() });
    await client.ok("chat.join", { channel: CHANNEL });
    return client;
  };
  const a = await login("bench_a", "Bench A");
  const b = await login("bench_b", "Bench B");
  let nextRef = 1;

  return series("native", n, async (body) => {
    const ref = `s${nextRef++}`;
    let arrivedAt = 0;
    const delivered = b.waitForEvent(
      (event) => {
        const matches =
          event.event_type === "channel.message" && (event.content as { body?: unknown }).body === body;
        if (matches) arrivedAt = performance.now();
        return matches;
      },
      DELIVERY_TIMEOUT_MS,
      `the chat.event for "${body}" at client B`,
    );
    const replied = a.waitFor(
      (f) => (f[0] === "success" || f[0] === "error") && f[1] === ref,
      DELIVERY_TIMEOUT_MS,
      `the reply to ${ref}`,
    );
    // Both are awaited below; these only keep an early failure of one from being "unhandled".
    delivered.catch(() => {});
    replied.catch(() => {});
    const t0 = performance.now();
    a.send([
      "chat.send",
      ref,
      { channel: CHANNEL, event_type: "channel.message", content: { type: "text", body } },
    ]);
    const reply = await Promise.race([replied, delivered.then(() => replied)]);
    if (reply[0] === "error") throw new Error(`chat.send of "${body}" failed: ${JSON.stringify(reply[2])}`);
    await delivered;
    return arrivedAt - t0;
  });
}

async function matrixBench({ hsUrl }: Setup, n: number): Promise<number[]> {
  const password = randomBytes(16).toString("hex");
  const a = await registerMatrixUser(hsUrl, "bench_mx_a", password);
  const b = await registerMatrixUser(hsUrl, "bench_mx_b", password);
  const created = await matrixRequest(hsUrl, a.accessToken, "POST", "/_matrix/client/v3/createRoom", {
    preset: "public_chat",
    name: "bench",
  });
  const roomId = String(created.room_id);
  await matrixRequest(
    hsUrl,
    b.accessToken,
    "POST",
    `/_matrix/client/v3/join/${encodeURIComponent(roomId)}`,
    {},
  );
  const sync = await RoomSync.start(hsUrl, b.accessToken, roomId);
  cleanups.push({ name: "stop /sync", run: () => sync.stop() });
  const sendPath = `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/m.room.message/`;
  let txn = 0;

  return series("matrix", n, async (body) => {
    const delivered = sync.waitForBody(body, DELIVERY_TIMEOUT_MS);
    delivered.catch(() => {});
    const t0 = performance.now();
    const sent = matrixRequest(hsUrl, a.accessToken, "PUT", `${sendPath}bench${txn++}`, {
      msgtype: "m.text",
      body,
    });
    const [arrivedAt] = await Promise.all([delivered, sent]);
    return arrivedAt - t0;
  });
}

async function synapseVersion(hsUrl: string): Promise<string> {
  try {
    const res = await fetch(`${hsUrl}/_synapse/admin/v1/server_version`, {
      signal: AbortSignal.timeout(2_000),
    });
    const body = (await res.json()) as { server_version?: unknown };
    // Synapse appends git info of its working directory, which here is Parley's checkout: drop it.
    if (res.ok && typeof body.server_version === "string")
      return body.server_version.split(" ")[0] ?? SYNAPSE_VERSION;
  } catch {
    // not exposed on this listener: fall back to the pinned version
  }
  return SYNAPSE_VERSION;
}

function report(n: number, native: Summary, matrix: Summary, synapse: string): Record<string, unknown> {
  const cpus = os.cpus();
  const machine = {
    cpu: cpus[0]?.model.trim() ?? "unknown",
    cores: cpus.length,
    memory_gib: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    synapse,
  };
  const ms = (x: number) => x.toFixed(2);
  const row = (path: string, s: Summary) => [
    path,
    String(s.count),
    ms(s.p50),
    ms(s.p90),
    ms(s.p99),
    ms(s.max),
    ms(s.mean),
  ];
  const ratios = { p50: native.p50 / matrix.p50, p99: native.p99 / matrix.p99 };
  const out = [
    "",
    `machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memory_gib} GiB RAM, Node ${machine.node}, Synapse ${synapse}`,
    `${n} sequential messages per path after ${WARMUP} warm-up ones; latency A sends -> B has it, in ms`,
    "",
    formatTable([
      ["path", "messages", "p50", "p90", "p99", "max", "mean"],
      row("native", native),
      row("matrix", matrix),
    ]),
    "",
    `native/matrix: p50 ${ratios.p50.toFixed(2)}x, p99 ${ratios.p99.toFixed(2)}x`,
    "",
  ];
  process.stdout.write(out.join("\n"));
  return { machine, ratios };
}

async function main(): Promise<void> {
  const n = messageCount();
  const root = resolve(".test-data");
  const scratch = join(root, `bench-${Date.now()}`);
  mkdirSync(scratch, { recursive: true });
  const keep = process.env.PARLEY_KEEP_TEST_DATA !== undefined;
  cleanups.push({
    name: "remove the scratch dir",
    run: () => (keep ? undefined : rmSync(scratch, { recursive: true, force: true })),
  });

  const setup = await setUp(scratch);
  const nativeSamples = await nativeBench(setup, n);
  const matrixSamples = await matrixBench(setup, n);
  const native = summarize(nativeSamples);
  const matrix = summarize(matrixSamples);
  const { machine, ratios } = report(n, native, matrix, await synapseVersion(setup.hsUrl));
  const round = (xs: number[]) => xs.map((x) => Math.round(x * 1000) / 1000);
  const results = {
    date: new Date().toISOString(),
    machine,
    messages: n,
    warmup: WARMUP,
    unit: "ms",
    native: { ...native, samples: round(nativeSamples) },
    matrix: { ...matrix, samples: round(matrixSamples) },
    ratios,
  };
  writeFileSync(join(root, "bench-latest.json"), `${JSON.stringify(results, null, 2)}\n`);
  process.stderr.write(`bench: wrote ${join(root, "bench-latest.json")}\n`);
  await cleanUp();
}

process.once("SIGINT", () => {
  process.stderr.write("bench: interrupted; stopping Parley and Synapse\n");
  void cleanUp().finally(() => process.exit(130));
});

main().then(
  () => process.exit(0),
  async (error: unknown) => {
    process.stderr.write(`bench: FAILED: ${error instanceof Error ? error.message : String(error)}\n`);
    // Keep the scratch dir (logs, databases) for a look; everything else is stopped.
    const scratchStep = cleanups.shift();
    await cleanUp();
    if (scratchStep)
      process.stderr.write("bench: the scratch dir under .test-data/ was kept for inspection\n");
    process.exit(1);
  },
);
