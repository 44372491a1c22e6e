// Fan-out: one publisher sends at a fixed rate, without waiting for anything, to a channel with
// thousands of subscribers, for Parley (the bench stack, mirroring every message to Synapse), a bare
// `ws` server and Socket.IO. Each message carries its sequence number and its send time (wall
// clock with sub-millisecond precision, the same in every process on this machine); the subscriber
// crowds (bench/crowd.ts) report what arrived when. Server memory: RSS with every subscriber
// connected minus RSS before, per subscriber.
import { type Contender, SERVERS, type ServerName, startContender } from "./contenders.ts";
import { Crowd } from "./crowd.ts";
import { fanoutBody } from "./fanout-client.ts";
import { cpuSeconds, rssKiB, sleep } from "./procs.ts";
import { progress, type Stack } from "./stack.ts";
import { type Summary, summarize } from "./stats.ts";

export const FANOUT_CONFIGS = [
  { subscribers: 2_000, rate: 20, seconds: 15 },
  { subscribers: 5_000, rate: 10, seconds: 15 },
] as const;
export type FanoutConfig = (typeof FANOUT_CONFIGS)[number];

/** After the last send: stop waiting once nothing more arrived for this long ... */
const SETTLE_IDLE_MS = 5_000;
/** ... or at the latest after this. */
const SETTLE_MAX_MS = 60_000;
/** Connected subscribers are left alone this long before the server's RSS is read. */
const QUIET_MS = 2_000;
/**
 * Uncounted messages at the same rate before the measured ones: the first deliveries to freshly
 * connected sockets run cold code in every process (hundreds of ms on all three servers).
 */
const WARMUP_S = 2;

export interface FanoutRun {
  readonly server: ServerName;
  readonly subscribers: number;
  readonly rate: number;
  readonly seconds: number;
  readonly messages: number;
  /** messages x subscribers */
  readonly expected: number;
  readonly received: number;
  readonly duplicates: number;
  readonly dropped: number;
  readonly dropReasons: Record<string, number>;
  readonly foreign: number;
  /** Per delivery, send -> arrival in ms; undefined when nothing arrived. */
  readonly latency: Summary | undefined;
  readonly rssBeforeKiB: number;
  readonly rssAfterKiB: number;
  readonly rssPerConnKiB: number;
  /** Sends the server refused or never answered (Parley), by error code. */
  readonly publishErrors: Record<string, number>;
  /** Parley: ms after the last send until the Matrix room had it (null: not within the timeout). */
  readonly mirroredMs: number | null | undefined;
  /**
   * CPU use from the first measured send until the last delivery, in % of one core: the server,
   * the subscriber processes together, and Synapse (busy with Parley's mirroring in Parley's runs).
   * The machine has 2 cores: what the three add up to is what was left for nobody.
   */
  readonly cpu: { readonly server: number; readonly clients: number; readonly synapse: number };
}

const now = () => performance.timeOrigin + performance.now();

/** Calls `publish` `messages` times, `rate` per second on a fixed schedule (no drift). */
export async function publishAtRate(
  messages: number,
  rate: number,
  publish: (seq: number, sentAt: number) => void,
): Promise<void> {
  const start = performance.now();
  for (let seq = 0; seq < messages; seq++) {
    const wait = start + (seq * 1000) / rate - performance.now();
    if (wait > 0) await sleep(wait);
    publish(seq, now());
  }
}

/** CPU seconds used so far by each of `pids`. */
const cpuOf = (pids: readonly number[]) => pids.map(cpuSeconds);

async function fanoutRun(
  server: Contender,
  config: FanoutConfig,
  tag: string,
  synapsePid: number,
): Promise<FanoutRun> {
  const label = `fan-out ${server.name} ${config.subscribers}x${config.rate}/s`;
  const channel = `bench_fanout_${tag}`;
  const publisher = await server.publisher(channel);
  try {
    await sleep(QUIET_MS);
    const rssBeforeKiB = rssKiB(server.pid);
    const crowd = await Crowd.open(server.target, channel, config.subscribers, label);
    try {
      await sleep(QUIET_MS);
      const rssAfterKiB = rssKiB(server.pid);
      const messages = config.rate * config.seconds;
      progress(`${label}: ${WARMUP_S} s of warm-up, then ${messages} messages in ${config.seconds} s`);
      await publishAtRate(WARMUP_S * config.rate, config.rate, (seq, sentAt) =>
        publisher.publish(-1 - seq, fanoutBody(-1 - seq, sentAt)),
      );
      await sleep(1_000);
      await crowd.arm(messages);
      const pids = [server.pid, synapsePid, ...crowd.pids];
      const [cpuBefore, started] = [cpuOf(pids), performance.now()];
      let last = "";
      await publishAtRate(messages, config.rate, (seq, sentAt) => {
        last = fanoutBody(seq, sentAt);
        publisher.publish(seq, last);
      });
      const expected = messages * config.subscribers;
      await crowd.settle(expected, SETTLE_IDLE_MS, SETTLE_MAX_MS);
      const report = await crowd.report();
      const used = cpuOf(pids).map((after, i) => after - (cpuBefore[i] ?? 0));
      const wall = (performance.now() - started) / 1000;
      const percent = (cpu: number) => (100 * cpu) / wall;
      const { errors, mirroredMs } = await publisher.finish(last);
      const delivered = ((100 * report.received) / expected).toFixed(2);
      progress(`${label}: ${delivered}% delivered`);
      return {
        server: server.name,
        ...config,
        messages,
        expected,
        received: report.received,
        duplicates: report.duplicates,
        dropped: report.dropped,
        dropReasons: report.dropReasons,
        foreign: report.foreign,
        latency: report.latencies.length > 0 ? summarize(Array.from(report.latencies)) : undefined,
        rssBeforeKiB,
        rssAfterKiB,
        rssPerConnKiB: (rssAfterKiB - rssBeforeKiB) / config.subscribers,
        publishErrors: errors,
        mirroredMs,
        cpu: {
          server: percent(used[0] ?? 0),
          synapse: percent(used[1] ?? 0),
          clients: percent(used.slice(2).reduce((sum, x) => sum + x, 0)),
        },
      };
    } finally {
      await crowd.close();
    }
  } finally {
    publisher.close();
  }
}

/** Every configuration against every server, each run on a freshly started server. */
export async function fanoutBench(stack: Stack): Promise<FanoutRun[]> {
  const runs: FanoutRun[] = [];
  for (const [i, config] of FANOUT_CONFIGS.entries()) {
    for (const name of SERVERS) {
      const server = await startContender(name, stack, `bench_f${i}_`);
      try {
        runs.push(await fanoutRun(server, config, String(i), stack.synapsePid));
      } finally {
        await server.stop();
      }
    }
  }
  return runs;
}
