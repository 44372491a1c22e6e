// The long fuzz run: `npm run fuzz` sends a million seeded hostile frames (FUZZ_FRAMES to change,
// FUZZ_SEED to replay) at a real Parley process against its own Synapse, and prints frames/s,
// crashes, unexpected closes and the process's memory. The same generator and checks run with
// 50,000 frames in `make test` (test/e2e/fuzz.test.ts).
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { buildRegistration, registrationYaml } from "../src/matrix/registration.ts";
import { fuzzFrames, sampleFrames } from "../test/support/fuzz-frames.ts";
import { runFuzz } from "../test/support/fuzz-run.ts";
import { startFuzzTarget } from "../test/support/fuzz-target.ts";
import { testConfig } from "../test/support/parley.ts";
import { freePort, startSynapse } from "../test/support/synapse.ts";
import { machine, printMachine, synapseVersion } from "./report.ts";

const FRAMES = Number(process.env.FUZZ_FRAMES ?? 1_000_000);
const SEED = Number(process.env.FUZZ_SEED ?? 20261201);

/** Resident memory of a process in MiB, from /proc. */
function rssMiB(pid: number): number {
  try {
    const line = readFileSync(`/proc/${pid}/status`, "utf8").match(/^VmRSS:\s+(\d+) kB/m);
    return line ? Number(line[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

async function main(): Promise<number> {
  if (!Number.isInteger(FRAMES) || FRAMES < 1) throw new Error("FUZZ_FRAMES must be a positive integer");
  const root = resolve(".test-data", `fuzz-${Date.now()}`);
  mkdirSync(root, { recursive: true });
  const env = {
    root,
    homeserverUrl: `http://127.0.0.1:${await freePort()}`,
    serverName: "localhost",
    appservicePort: await freePort(),
    registrationPath: join(root, "registration.yaml"),
    jwtSecret: randomBytes(32).toString("hex"),
  };
  writeFileSync(env.registrationPath, registrationYaml(buildRegistration(testConfig(env, "unused"))));
  process.stderr.write(`fuzz: starting Synapse in ${root}\n`);
  const synapse = await startSynapse({
    dataDir: join(root, "synapse"),
    port: Number(new URL(env.homeserverUrl).port),
    registrationPath: env.registrationPath,
  });
  const setup = await startFuzzTarget({ ...env, suffix: randomBytes(3).toString("hex") });
  const pid = setup.process.pid;
  let peakRss = rssMiB(pid);
  const startRss = peakRss;
  try {
    printMachine(machine(await synapseVersion(env.homeserverUrl)));
    process.stdout.write(`fuzz: ${FRAMES} frames, seed ${SEED}\n`);
    const frames = sampleFrames(fuzzFrames(setup.world, setup.actions), SEED, FRAMES);
    const report = await runFuzz(setup.target, frames, {
      // Comparing the store after every refusal halves the pace: a tenth of them is plenty here.
      checkEvery: 10,
      onProgress: (r) => {
        peakRss = Math.max(peakRss, rssMiB(pid));
        process.stderr.write(
          `fuzz: ${r.frames} frames, ${(r.frames / r.seconds).toFixed(0)}/s, RSS ${rssMiB(pid).toFixed(0)} MiB, ${r.failures.length} failures\n`,
        );
      },
    });
    const bugs = setup.bugs();
    const alive = setup.target.alive();
    const unexpectedCloses = report.failures.filter((f) => /close|reconnect/.test(f)).length;
    process.stdout.write(
      [
        `frames            ${report.frames} in ${report.seconds.toFixed(0)} s = ${(report.frames / report.seconds).toFixed(0)} frames/s`,
        `crashes           ${alive ? 0 : 1} (process ${alive ? "still running" : "gone"}); bug lines in its log: ${bugs.length}`,
        `unexpected closes ${unexpectedCloses} (closes 1009 for frames over the limit, as expected: ${report.closes1009})`,
        `RSS               ${startRss.toFixed(0)} MiB at start, ${rssMiB(pid).toFixed(0)} MiB at the end, peak ${peakRss.toFixed(0)} MiB`,
        `refusals checked  ${report.checked} against the store; successes ${report.successes}`,
        `error codes       ${JSON.stringify(report.byCode)}`,
        `failures          ${report.failures.length}${report.failures.length ? `\n  ${report.failures.join("\n  ")}` : ""}`,
        "",
      ].join("\n"),
    );
    return report.failures.length === 0 && bugs.length === 0 && alive ? 0 : 1;
  } finally {
    await setup.stop();
    await synapse.stop();
    if (!process.env.PARLEY_KEEP_TEST_DATA) rmSync(root, { recursive: true, force: true });
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(
      `fuzz: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = 1;
  },
);
