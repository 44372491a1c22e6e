// The benchmark, against one fresh Synapse and one Parley (a child process) in a scratch dir:
//   1. latency: a message from native client A to native client B, and the same between two Matrix
//      clients (bench/latency.ts);
//   2. history: chat.fetch pages from a channel of 100,000 messages (bench/history.ts);
//   3. reconnect: 1,000 clients reconnect at once and fetch the 200 messages they missed
//      (bench/reconnect.ts).
// `node bench/run.ts`; BENCH_MESSAGES sets the number of measured latency messages (default 500,
// after 20 warm-up ones). Results, with every sample, go to .test-data/bench-latest.json.
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { historyBench } from "./history.ts";
import { matrixLatency, nativeLatency, WARMUP } from "./latency.ts";
import { MISSED, reconnectBench } from "./reconnect.ts";
import {
  machine,
  printHistory,
  printLatency,
  printMachine,
  printReconnect,
  recoverySummaries,
  synapseVersion,
} from "./report.ts";
import { cleanUp, onCleanup, progress, startStack } from "./stack.ts";
import { summarize } from "./stats.ts";

function messageCount(): number {
  const raw = process.env.BENCH_MESSAGES;
  if (raw === undefined || raw === "") return 500;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 100_000)
    throw new Error(`BENCH_MESSAGES must be 1-100000, got "${raw}"`);
  return n;
}

const round = (xs: number[]) => xs.map((x) => Math.round(x * 1000) / 1000);
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

  const stack = await startStack(scratch);
  const nativeSamples = await nativeLatency(stack, n);
  const matrixSamples = await matrixLatency(stack, n);
  const history = await historyBench(stack);
  const reconnect = await reconnectBench(stack);

  const native = summarize(nativeSamples);
  const matrix = summarize(matrixSamples);
  const random = summarize(history.random);
  const newest = summarize(history.newest);
  const recovery = recoverySummaries(reconnect);
  const m = machine(await synapseVersion(stack.hsUrl));
  printMachine(m);
  const ratios = printLatency(n, native, matrix);
  printHistory(history, random, newest);
  printReconnect(reconnect, recovery);

  const results = {
    date: new Date().toISOString(),
    machine: m,
    unit: "ms",
    // The latency part keeps its original top-level keys.
    messages: n,
    warmup: WARMUP,
    native: { ...native, samples: round(nativeSamples) },
    matrix: { ...matrix, samples: round(matrixSamples) },
    ratios,
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
