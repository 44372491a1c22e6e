// The benchmark, against one fresh Synapse and one Parley (a child process) in a scratch dir:
//   1. latency: a message from A to B, native and Matrix users in the four combinations
//      (bench/latency.ts);
//   2. history: chat.fetch pages from a channel of 100,000 messages (bench/history.ts);
//   3. reconnect: 1,000 clients reconnect at once and fetch the 200 messages they missed
//      (bench/reconnect.ts);
//   4. fan-out: thousands of subscribers of one channel, Parley against a bare `ws` server and
//      Socket.IO (bench/fanout.ts);
//   5. idle memory per connection, up to 19,800 connections, the same three (bench/memory.ts);
//   6. outage: native chat and Matrix mirroring while Synapse is frozen for 30 s (bench/outage.ts);
//   7. directory: chat.directory and user.list.search on 10,000 channels and 100,000 users, SQLite
//      and PostgreSQL, through the middle tier (bench/directory.ts; run first, before the stack:
//      it needs no homeserver, and nothing else then shares the cores);
//   8. web page: the built page's script weight and its cold first paint in Chromium (bench/web.ts;
//      run first too: it needs only Parley's web route);
//   9. cluster: two Parley nodes over a private PostgreSQL and Redis, on a stack of their own
//      (bench/cluster.ts); the single-node stack is stopped first. BENCH_CLUSTER=0 leaves it out;
//      `node bench/cluster-run.ts` runs it alone.
// `node bench/run.ts`; BENCH_MESSAGES sets the number of measured latency messages (default 500,
// after 20 warm-up ones). Results go to .test-data/bench-latest.json (every latency sample; the
// fan-out's hundreds of thousands of deliveries as summaries).
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { type ClusterResult, clusterBench, clusterJson } from "./cluster.ts";
import { directoryBench, printDirectory } from "./directory.ts";
import { fanoutBench } from "./fanout.ts";
import { historyBench } from "./history.ts";
import { latencyBench, WARMUP } from "./latency.ts";
import { idleMemoryBench } from "./memory.ts";
import { outageBench } from "./outage.ts";
import { MISSED, reconnectBench } from "./reconnect.ts";
import {
  machine,
  printCluster,
  printFanout,
  printHistory,
  printIdle,
  printLatency,
  printMachine,
  printOutage,
  printReconnect,
  recoverySummaries,
  synapseVersion,
} from "./report.ts";
import { cleanUp, onCleanup, progress, startStack } from "./stack.ts";
import { summarize } from "./stats.ts";
import { printWeb, webBench } from "./web.ts";

function messageCount(): number {
  const raw = process.env.BENCH_MESSAGES;
  if (raw === undefined || raw === "") return 500;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 100_000)
    throw new Error(`BENCH_MESSAGES must be 1-100000, got "${raw}"`);
  return n;
}

const round = (xs: number[]) => xs.map((x) => Math.round(x * 1000) / 1000);

/** Seconds each part took, for the record (the whole run should stay around 10 minutes). */
const durations: Record<string, number> = {};

async function part<T>(name: string, run: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const result = await run();
  durations[name] = Math.round((performance.now() - started) / 100) / 10;
  progress(`${name} took ${durations[name]} s`);
  return result;
}
let scratchMade = false;

async function main(): Promise<void> {
  const started = performance.now();
  const n = messageCount();
  const root = resolve(".test-data");
  const scratch = join(root, `bench-${Date.now()}`);
  mkdirSync(scratch, { recursive: true });
  scratchMade = true;
  const keep = process.env.PARLEY_KEEP_TEST_DATA !== undefined;
  onCleanup("remove the scratch dir", () =>
    keep ? undefined : rmSync(scratch, { recursive: true, force: true }),
  );

  const directory = await part("directory", () => directoryBench(scratch, progress));
  const web = await part("web page", () => webBench());
  const stack = await startStack(scratch);
  const latency = await part("latency", () => latencyBench(stack, n));
  const history = await part("history", () => historyBench(stack));
  const reconnect = await part("reconnect", () => reconnectBench(stack));
  const fanout = await part("fan-out", () => fanoutBench(stack));
  const idle = await part("idle memory", () => idleMemoryBench(stack));
  // Last: it freezes Synapse.
  const outage = await part("outage", () => outageBench(stack));
  const m = machine(await synapseVersion(stack.hsUrl));
  let cluster: ClusterResult | undefined;
  if (process.env.BENCH_CLUSTER !== "0") {
    // Its own Synapse, PostgreSQL, Redis and nodes: the single-node stack must not share the cores.
    progress("stopping the single-node stack for the cluster part");
    await cleanUp(1);
    cluster = await part("cluster", () => clusterBench(scratch, n));
  }

  const paths = {
    native: summarize(latency.native),
    matrix: summarize(latency.matrix),
    nativeToMatrix: summarize(latency.nativeToMatrix),
    matrixToNative: summarize(latency.matrixToNative),
  };
  const random = summarize(history.random);
  const newest = summarize(history.newest);
  const recovery = recoverySummaries(reconnect);
  printMachine(m);
  const ratios = printLatency(n, paths, latency.drainMs);
  printHistory(history, random, newest);
  printReconnect(reconnect, recovery);
  printFanout(fanout);
  printIdle(idle);
  printOutage(outage);
  printDirectory(directory);
  printWeb(web);
  if (cluster) printCluster(cluster, { native: paths.native, fanout });

  const results = {
    date: new Date().toISOString(),
    machine: m,
    unit: "ms",
    // The latency part keeps its original top-level keys.
    messages: n,
    warmup: WARMUP,
    native: { ...paths.native, samples: round(latency.native) },
    matrix: { ...paths.matrix, samples: round(latency.matrix) },
    native_to_matrix: { ...paths.nativeToMatrix, samples: round(latency.nativeToMatrix) },
    matrix_to_native: { ...paths.matrixToNative, samples: round(latency.matrixToNative) },
    ratios: ratios.native,
    ratios_matrix_to_native: ratios.matrixToNative,
    ratios_native_to_matrix: ratios.nativeToMatrix,
    outbox_drain_ms: round([latency.drainMs])[0],
    history: {
      channel_events: history.maxId,
      insert_ms: round([history.insertMs])[0],
      random_before_id: { ...random, samples: round(history.random) },
      newest: { ...newest, samples: round(history.newest) },
    },
    reconnect: {
      clients: reconnect.recovery.length,
      missed: MISSED,
      setup_ms: round([reconnect.setupMs])[0],
      wall_ms: round([reconnect.wallMs])[0],
      recovery: {
        ...recovery.total,
        samples: round(reconnect.recovery.map((x) => x.total)),
        steps: {
          connect: recovery.connect,
          authenticate: recovery.authenticate,
          subscribe: recovery.subscribe,
          fetch: recovery.fetch,
        },
      },
    },
    fanout,
    idle_memory: idle,
    outage,
    directory,
    web,
    cluster: cluster && clusterJson(cluster),
    durations_s: durations,
  };
  writeFileSync(join(root, "bench-latest.json"), `${JSON.stringify(results, null, 2)}\n`);
  progress(`wrote ${join(root, "bench-latest.json")}`);
  await cleanUp();
  progress(`done in ${((performance.now() - started) / 1000).toFixed(0)} s`);
}

process.once("SIGINT", () => {
  progress("interrupted; stopping Parley and Synapse");
  void cleanUp().finally(() => process.exit(130));
});

main().then(
  () => process.exit(0),
  async (error: unknown) => {
    progress(`FAILED: ${error instanceof Error ? error.message : String(error)}`);
    // Keep the scratch dir (logs, databases) for a look; everything else is stopped.
    await cleanUp(scratchMade ? 1 : 0);
    if (scratchMade) progress("the scratch dir under .test-data/ was kept for inspection");
    process.exit(1);
  },
);
