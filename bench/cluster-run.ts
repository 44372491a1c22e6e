// The cluster part of the benchmark alone (bench/cluster.ts): `node bench/cluster-run.ts`, with
// BENCH_MESSAGES as in bench/run.ts. It prints the cluster's tables without the single-node
// anchors (they come from the whole run, `make bench`) and writes
// .test-data/bench-cluster-latest.json.
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { clusterBench, clusterJson } from "./cluster.ts";
import { machine, printCluster, printMachine } from "./report.ts";
import { cleanUp, onCleanup, progress } from "./stack.ts";

async function main(): Promise<void> {
  const raw = process.env.BENCH_MESSAGES;
  const n = raw === undefined || raw === "" ? 500 : Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 100_000)
    throw new Error(`BENCH_MESSAGES must be 1-100000, got "${raw}"`);
  const started = performance.now();
  const root = resolve(".test-data");
  const scratch = join(root, `bench-cluster-${Date.now()}`);
  mkdirSync(scratch, { recursive: true });
  const keep = process.env.PARLEY_KEEP_TEST_DATA !== undefined;
  onCleanup("remove the scratch dir", () =>
    keep ? undefined : rmSync(scratch, { recursive: true, force: true }),
  );
  const result = await clusterBench(scratch, n);
  const m = machine(result.synapse);
  printMachine(m);
  printCluster(result);
  const file = join(root, "bench-cluster-latest.json");
  writeFileSync(
    file,
    `${JSON.stringify({ date: new Date().toISOString(), machine: m, unit: "ms", cluster: clusterJson(result) }, null, 2)}\n`,
  );
  progress(`wrote ${file}`);
  await cleanUp();
  progress(`done in ${((performance.now() - started) / 1000).toFixed(0)} s`);
}

process.once("SIGINT", () => {
  progress("interrupted; stopping the cluster");
  void cleanUp().finally(() => process.exit(130));
});

main().then(
  () => process.exit(0),
  async (error: unknown) => {
    progress(`FAILED: ${error instanceof Error ? error.message : String(error)}`);
    await cleanUp(1);
    progress("the scratch dir under .test-data/ was kept for inspection");
    process.exit(1);
  },
);
