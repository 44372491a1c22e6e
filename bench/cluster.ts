// The cluster benchmark: two Parley nodes over a private PostgreSQL and Redis, beside their own
// Synapse (bench/cluster-stack.ts). Four measurements:
//   1. the hop: one native sender on node 1, one subscriber on node 1 and one on node 2; each
//      message, sent one at a time after a warm-up, is timed at both subscribers at once;
//   2. fan-out over two nodes: the single-node fan-out's configurations (bench/fanout.ts), the
//      subscribers split evenly over the nodes, the same client processes (cluster-crowd.ts);
//      latency per node (the same messages: the hop under load), RSS and CPU per node, what
//      Redis, PostgreSQL and Synapse used, and what the bus carried;
//   3. the bus: Redis pub/sub alone, one publisher and 2 or 8 subscribers (as many nodes) at
//      the size of the event messages the bus carried in part 2, and what a node's presence
//      heartbeat costs Redis (cluster-redis.ts);
//   4. throughput: native senders on node 1 as fast as it answers them (cluster-throughput.ts).
// Parts 1-3 leave nothing behind; part 4 leaves a backlog in the outbox, so it runs last and the
// stack is stopped after it.
import { randomBytes } from "node:crypto";
import type { TestClient } from "../test/support/client.ts";
import { type ClusterFanoutRun, clusterFanoutBench } from "./cluster-fanout.ts";
import { type HeartbeatRun, type RedisRun, redisBench } from "./cluster-redis.ts";
import { type ClusterBenchStack, startClusterBench } from "./cluster-stack.ts";
import { type ThroughputRun, throughputBench } from "./cluster-throughput.ts";
import { WARMUP } from "./latency.ts";
import { joinRoom, newMatrixUser, roomIdOf, waitMirrored } from "./matrix-room.ts";
import { synapseVersion } from "./report.ts";
import { progress } from "./stack.ts";
import { type Summary, summarize } from "./stats.ts";

const DELIVERY_TIMEOUT_MS = 10_000;
const DRAIN_TIMEOUT_MS = 120_000;
const HOP_CHANNEL = "bench_cluster_hop";
/** The bus event message Redis is measured with when part 2 saw none (it always should). */
const DEFAULT_EVENT_BYTES = 300;

export interface HopResult {
  readonly messages: number;
  /** Per message, A's send -> the subscriber on node 1 (A's node) has it, in ms. */
  readonly sameNode: Summary;
  /** The same messages, A's send -> the subscriber on node 2 has it. */
  readonly otherNode: Summary;
  /** Per message, node 2's arrival minus node 1's (what the hop adds to that message). */
  readonly hop: Summary;
  /** ms the series took, warm-up included. */
  readonly seriesMs: number;
  /** ms after the series until the Matrix room had its last message (the outbox's drain). */
  readonly drainMs: number | null;
  readonly samples: { readonly sameNode: number[]; readonly otherNode: number[] };
}

export interface ClusterResult {
  readonly nodes: number;
  /** The cluster's Synapse, for the machine line. */
  readonly synapse: string;
  readonly hop: HopResult;
  readonly fanout: ClusterFanoutRun[];
  readonly redis: RedisRun[];
  readonly heartbeat: HeartbeatRun;
  readonly throughput: ThroughputRun[];
  /** Lines the nodes logged as bugs (should be none). */
  readonly bugs: string[];
  /** The warnings and errors the nodes logged, ids and numbers masked, with how often. */
  readonly logged: Record<string, number>;
  /** The same, up to the throughput part (the hop, fan-out and bus parts). */
  readonly loggedBeforeThroughput: Record<string, number>;
  readonly durations_s: Record<string, number>;
}

/** Resolves with the performance.now() at which `client` got the message `body`. */
function arrival(client: TestClient, body: string, who: string): Promise<number> {
  let at = 0;
  const delivered = client
    .waitForEvent(
      (event) => {
        const matches =
          event.event_type === "channel.message" && (event.content as { body?: unknown }).body === body;
        if (matches) at = performance.now();
        return matches;
      },
      DELIVERY_TIMEOUT_MS,
      `"${body}" at ${who}`,
    )
    .then(() => at);
  delivered.catch(() => {});
  return delivered;
}

function send(a: TestClient, ref: string, body: string): Promise<void> {
  const replied = a.waitFor(
    (f) => (f[0] === "success" || f[0] === "error") && f[1] === ref,
    DELIVERY_TIMEOUT_MS,
    `the reply to ${ref}`,
  );
  a.send([
    "chat.send",
    ref,
    { channel: HOP_CHANNEL, event_type: "channel.message", content: { type: "text", body } },
  ]);
  const ok = replied.then((reply) => {
    if (reply[0] === "error") throw new Error(`chat.send of "${body}" failed: ${JSON.stringify(reply[2])}`);
  });
  ok.catch(() => {});
  return ok;
}

/** WARMUP uncounted, then `n` counted messages, one at a time, timed at both subscribers. */
async function hopBench(stack: ClusterBenchStack, n: number): Promise<HopResult> {
  const a = await stack.login(0, "bench_hop_a", "Hop A");
  const roomId = roomIdOf(await a.ok("chat.join", { channel: HOP_CHANNEL }));
  const near = await stack.login(0, "bench_hop_near", "Hop Near");
  await near.ok("chat.join", { channel: HOP_CHANNEL });
  const far = await stack.login(1, "bench_hop_far", "Hop Far");
  await far.ok("chat.join", { channel: HOP_CHANNEL });
  const run = randomBytes(4).toString("hex");
  const sameNode: number[] = [];
  const otherNode: number[] = [];
  const hop: number[] = [];
  let last = "";
  const seriesStart = performance.now();
  for (let i = 0; i < WARMUP + n; i++) {
    const body = `hop ${run} #${i}`;
    last = body;
    const atNear = arrival(near, body, "the subscriber on node 1");
    const atFar = arrival(far, body, "the subscriber on node 2");
    const t0 = performance.now();
    const [n1, n2] = await Promise.all([atNear, atFar, send(a, `h${i}`, body)]);
    if (i < WARMUP) continue;
    sameNode.push(n1 - t0);
    otherNode.push(n2 - t0);
    hop.push(n2 - n1);
    const done = i + 1 - WARMUP;
    if (done % 100 === 0 || done === n) progress(`cluster hop ${done}/${n}`);
  }
  const seriesMs = performance.now() - seriesStart;
  for (const client of [a, near, far]) client.close();
  // Let the outbox post the series to Synapse before the fan-out shares the cores with it.
  const observer = await newMatrixUser(stack.hsUrl, "bench_cluster_mx");
  await joinRoom(stack.hsUrl, observer, roomId);
  let drainMs: number | null = null;
  try {
    drainMs = await waitMirrored(stack.hsUrl, observer, roomId, last, DRAIN_TIMEOUT_MS);
    progress(
      `cluster: the outbox had mirrored the hop series ${(drainMs / 1000).toFixed(1)} s after it ended`,
    );
  } catch (error) {
    progress(`cluster: ${(error as Error).message}`);
  }
  return {
    messages: n,
    sameNode: summarize(sameNode),
    otherNode: summarize(otherNode),
    hop: summarize(hop),
    seriesMs,
    drainMs,
    samples: { sameNode, otherNode },
  };
}

/** The whole cluster part, on a stack of its own in `scratch`; the stack is stopped at the end. */
export async function clusterBench(scratch: string, n: number): Promise<ClusterResult> {
  const durations: Record<string, number> = {};
  const timed = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    const result = await work();
    durations[name] = Math.round((performance.now() - started) / 100) / 10;
    progress(`cluster ${name} took ${durations[name]} s`);
    return result;
  };
  const stack = await timed("start-up", () => startClusterBench(scratch));
  try {
    const hop = await timed("hop", () => hopBench(stack, n));
    const fanout = await timed("fan-out", () => clusterFanoutBench(stack));
    const eventBytes = fanout.find((r) => r.bus.eventBytes > 0)?.bus.eventBytes ?? DEFAULT_EVENT_BYTES;
    const { pubsub: redis, heartbeat } = await timed("redis", () => redisBench(stack, eventBytes));
    const loggedBeforeThroughput = stack.logged();
    const throughput = await timed("throughput", () => throughputBench(stack));
    const bugs = stack.bugs();
    const logged = stack.logged();
    const synapse = await synapseVersion(stack.hsUrl);
    return {
      nodes: stack.nodes.length,
      synapse,
      hop,
      fanout,
      redis,
      heartbeat,
      throughput,
      bugs,
      logged,
      loggedBeforeThroughput,
      durations_s: durations,
    };
  } finally {
    await stack.stop();
  }
}

const round = (xs: number[]) => xs.map((x) => Math.round(x * 1000) / 1000);

/** The results for the JSON file, the hop samples rounded like the latency part's. */
export function clusterJson(c: ClusterResult) {
  const { samples, ...hop } = c.hop;
  return {
    ...c,
    hop: { ...hop, samples: { same_node: round(samples.sameNode), other_node: round(samples.otherNode) } },
  };
}
