// Fuzzing a real Parley (a child process, against the run's Synapse): 50,000 seeded hostile frames,
// JSON and MessagePack, on connections never authenticated, logged in with a token, and as a guest.
// The process must stay up, every frame get one documented answer (never server.fatal), and a
// frame answered with an error must change nothing in the store. PARLEY_FUZZ_SEED replays a run;
// `npm run fuzz` runs a million frames.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { fuzzFrames, sampleFrames } from "../support/fuzz-frames.ts";
import { type FuzzReport, runFuzz } from "../support/fuzz-run.ts";
import { type FuzzSetup, startFuzzTarget } from "../support/fuzz-target.ts";

const FRAMES = Number(process.env.PARLEY_FUZZ_FRAMES ?? 50_000);
const SEED = Number(process.env.PARLEY_FUZZ_SEED ?? 20261201);

let setup: FuzzSetup;

beforeAll(async () => {
  setup = await startFuzzTarget({ ...inject("e2e"), suffix: randomBytes(3).toString("hex") });
}, 120_000);
afterAll(async () => {
  await setup?.stop();
});

describe("fuzzing", () => {
  it(`${FRAMES} hostile frames (seed ${SEED}) leave Parley up, answered with documented codes, unchanged by refusals`, async () => {
    const arbitrary = fuzzFrames(setup.world, setup.actions);
    const counted = { json: 0, msgpack: 0 };
    const frames = (function* () {
      for (const frame of sampleFrames(arbitrary, SEED, FRAMES)) {
        if (frame.binary) counted.msgpack += 1;
        else counted.json += 1;
        yield frame;
      }
    })();
    const report: FuzzReport = await runFuzz(setup.target, frames);
    const summary = `${report.frames} frames in ${report.seconds.toFixed(1)} s; ${report.checked} refusals checked against the store; ${report.successes} successes; ${report.closes1009} closes 1009`;
    console.log(`fuzz: ${summary}; codes ${JSON.stringify(report.byCode)}`);
    expect(report.failures, summary).toEqual([]);
    expect(report.frames).toBe(FRAMES);
    expect(counted.json).toBeGreaterThan(FRAMES / 4);
    expect(counted.msgpack).toBeGreaterThan(FRAMES / 4);
    // The run reached deep into the protocol, not only the frame reader.
    const share = (n: number | undefined) => (n ?? 0) / FRAMES;
    expect(share(report.byCode["protocol.invalid_payload"])).toBeGreaterThan(0.1);
    expect(share(report.byCode["protocol.bad_frame"])).toBeGreaterThan(0.05);
    expect(share(report.byCode["protocol.unauthenticated"])).toBeGreaterThan(0.05);
    expect(share(report.byCode["chat.denied"])).toBeGreaterThan(0.01);
    expect(share(report.successes)).toBeGreaterThan(0.02);
    expect(report.checked).toBeGreaterThan(FRAMES / 2);
    expect(report.closes1009).toBeGreaterThan(0);
    expect(setup.bugs()).toEqual([]);
  }, 600_000);
});
