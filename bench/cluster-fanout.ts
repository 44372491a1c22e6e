// Fan-out over two nodes: bench/fanout.ts's configurations and schedule (the subscribers connect,
// 2 s quiet, RSS read, 2 s of uncounted warm-up at the same rate, then R msg/s for 15 s, then wait
// until everything arrived or nothing more did for 5 s), with the publisher (a native user) on
// node 1 and the subscribers split evenly over node 1 and node 2, in the same four client
// processes (two per node). Both nodes are restarted before each run. Per node: what arrived, the
// latency (the same messages at both nodes: the cost of the hop under load), RSS per connection
// and CPU. Besides: the CPU of Redis, PostgreSQL (the postmaster and its backends), Synapse (the
// outbox mirrors every message) and the client processes, and what the bus carried (a
// subscriber of the bench's own on Parley's Redis channel counts its messages by kind and size).
import { Redis } from "ioredis";
import { BUS_CHANNEL } from "../src/redis/bus.ts";
import { ClusterCrowd } from "./cluster-crowd.ts";
import { type ClusterBenchStack, machineBusySeconds, treeCpuSeconds } from "./cluster-stack.ts";
import { FANOUT_CONFIGS, publishAtRate } from "./fanout.ts";
import type { Target } from "./fanout-client.ts";
import { fanoutBody } from "./fanout-client.ts";
import { joinRoom, type MatrixUser, newMatrixUser, roomIdOf, waitMirrored } from "./matrix-room.ts";
import { cpuSeconds, rssKiB, sleep } from "./procs.ts";
import { progress } from "./stack.ts";
import { type Summary, summarize } from "./stats.ts";

const SETTLE_IDLE_MS = 5_000;
const SETTLE_MAX_MS = 60_000;
const QUIET_MS = 2_000;
const WARMUP_S = 2;
const MIRROR_TIMEOUT_MS = 120_000;

export interface NodeShare {
  readonly subscribers: number;
  /** messages x this node's subscribers */
  readonly expected: number;
  readonly received: number;
  readonly duplicates: number;
  readonly dropped: number;
  readonly dropReasons: Record<string, number>;
  readonly foreign: number;
  /** Per delivery to this node's subscribers, send -> arrival in ms. */
  readonly latency: Summary | undefined;
  readonly rssBeforeKiB: number;
  readonly rssAfterKiB: number;
  readonly rssPerConnKiB: number;
  /** % of one core, from the first measured send to the last delivery. */
  readonly cpu: number;
}

export interface BusTraffic {
  /** Messages on Parley's bus channel from the first measured send to the last delivery, by kind. */
  readonly byKind: Record<string, number>;
  /** The mean size of an `event` message, in bytes (the JSON Redis carries). */
  readonly eventBytes: number;
}

export interface ClusterFanoutRun {
  readonly subscribers: number;
  readonly rate: number;
  readonly seconds: number;
  readonly messages: number;
  readonly expected: number;
  readonly received: number;
  /** Over both nodes. */
  readonly latency: Summary | undefined;
  /** Index 0: node 1 (the publisher's), 1: node 2. */
  readonly nodes: NodeShare[];
  readonly cpu: {
    readonly redis: number;
    readonly postgres: number;
    readonly synapse: number;
    readonly clients: number;
    /** The whole machine (all cores), and what of it none of the processes above used. */
    readonly machine: number;
    readonly other: number;
  };
  readonly bus: BusTraffic;
  readonly publishErrors: Record<string, number>;
  readonly mirroredMs: number | null;
  readonly wallS: number;
}

/** Counts what passes on Parley's bus channel while `counting` is set. */
async function busMonitor(url: string) {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  const byKind: Record<string, number> = {};
  let eventBytes = 0;
  let counting = false;
  redis.on("message", (_channel: string, raw: string) => {
    if (!counting) return;
    const kind = /^\{"kind":"([a-z-]+)"/.exec(raw)?.[1] ?? "other";
    byKind[kind] = (byKind[kind] ?? 0) + 1;
    if (kind === "event") eventBytes += Buffer.byteLength(raw);
  });
  await redis.subscribe(BUS_CHANNEL);
  return {
    start() {
      counting = true;
    },
    stop(): BusTraffic {
      counting = false;
      const events = byKind.event ?? 0;
      return { byKind: { ...byKind }, eventBytes: events > 0 ? eventBytes / events : 0 };
    },
    async close() {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

let observer: MatrixUser | undefined;

async function clusterFanoutRun(
  stack: ClusterBenchStack,
  config: (typeof FANOUT_CONFIGS)[number],
  tag: string,
): Promise<ClusterFanoutRun> {
  const label = `cluster fan-out ${config.subscribers}x${config.rate}/s`;
  const channel = `bench_cfanout_${tag}`;
  const users = `bench_cf${tag}_`;
  await stack.restartNodes();
  const publisher = await stack.login(0, `${users}pub`, "Bench Publisher");
  const roomId = roomIdOf(await publisher.ok("chat.join", { channel }));
  observer ??= await newMatrixUser(stack.hsUrl, "bench_cluster_fanout_mx");
  await joinRoom(stack.hsUrl, observer, roomId);
  const bus = await busMonitor(stack.redis.url);
  try {
    await sleep(QUIET_MS);
    const nodePids = stack.nodes.map((node) => node.pid());
    const rssBefore = nodePids.map(rssKiB);
    const targets: Target[] = stack.nodes.map((node) => ({
      kind: "parley",
      url: node.gatewayUrl,
      jwtSecret: stack.jwtSecret,
      users,
    }));
    const crowd = await ClusterCrowd.open(targets, channel, config.subscribers, label);
    try {
      await sleep(QUIET_MS);
      const rssAfter = nodePids.map(rssKiB);
      const messages = config.rate * config.seconds;
      let sent = 0;
      const publish = (seq: number, body: string) => {
        if (seq >= 0) sent += 1;
        publisher.send([
          "chat.send",
          `p${seq}`,
          { channel, event_type: "channel.message", content: { type: "text", body } },
        ]);
      };
      progress(`${label}: ${WARMUP_S} s of warm-up, then ${messages} messages in ${config.seconds} s`);
      await publishAtRate(WARMUP_S * config.rate, config.rate, (seq, sentAt) =>
        publish(-1 - seq, fanoutBody(-1 - seq, sentAt)),
      );
      await sleep(1_000);
      await crowd.arm(messages);
      const others = [stack.redisPid, stack.synapsePid, ...crowd.pids];
      // The processes of the run, then PostgreSQL, this process, and the whole machine last.
      const cpuNow = () => [
        ...[...nodePids, ...others].map(cpuSeconds),
        treeCpuSeconds(stack.postgresPid),
        (process.cpuUsage().user + process.cpuUsage().system) / 1e6,
        machineBusySeconds(),
      ];
      const [cpuBefore, started] = [cpuNow(), performance.now()];
      bus.start();
      let last = "";
      await publishAtRate(messages, config.rate, (seq, sentAt) => {
        last = fanoutBody(seq, sentAt);
        publish(seq, last);
      });
      const expected = messages * config.subscribers;
      await crowd.settle(expected, SETTLE_IDLE_MS, SETTLE_MAX_MS);
      const byNode = await crowd.reportByNode();
      const used = cpuNow().map((after, i) => after - (cpuBefore[i] ?? 0));
      const traffic = bus.stop();
      const wallS = (performance.now() - started) / 1000;
      const percent = (cpu: number) => (100 * cpu) / wallS;
      const k = nodePids.length;
      let mirroredMs: number | null = null;
      try {
        mirroredMs = await waitMirrored(stack.hsUrl, observer, roomId, last, MIRROR_TIMEOUT_MS);
      } catch (error) {
        progress(`${label}: ${(error as Error).message}`);
      }
      const publishErrors: Record<string, number> = {};
      let answered = 0;
      for (const [kind, ref, payload] of publisher.received) {
        if (!/^p\d+$/.test(String(ref)) || (kind !== "success" && kind !== "error")) continue;
        answered += 1;
        if (kind === "error") {
          const code = String((payload as { code?: unknown }).code);
          publishErrors[code] = (publishErrors[code] ?? 0) + 1;
        }
      }
      if (answered < sent) publishErrors["no reply"] = sent - answered;
      const nodes = byNode.map((report, i): NodeShare => {
        const subscribers = crowd.perNode[i] ?? 0;
        return {
          subscribers,
          expected: messages * subscribers,
          received: report.received,
          duplicates: report.duplicates,
          dropped: report.dropped,
          dropReasons: report.dropReasons,
          foreign: report.foreign,
          latency: report.latencies.length > 0 ? summarize(Array.from(report.latencies)) : undefined,
          rssBeforeKiB: rssBefore[i] ?? 0,
          rssAfterKiB: rssAfter[i] ?? 0,
          rssPerConnKiB: ((rssAfter[i] ?? 0) - (rssBefore[i] ?? 0)) / subscribers,
          cpu: percent(used[i] ?? 0),
        };
      });
      const all = byNode.flatMap((report) => Array.from(report.latencies));
      const received = nodes.reduce((sum, node) => sum + node.received, 0);
      progress(`${label}: ${((100 * received) / expected).toFixed(2)}% delivered`);
      return {
        ...config,
        messages,
        expected,
        received,
        latency: all.length > 0 ? summarize(all) : undefined,
        nodes,
        cpu: {
          redis: percent(used[k] ?? 0),
          synapse: percent(used[k + 1] ?? 0),
          clients: percent(used.slice(k + 2, -3).reduce((sum, x) => sum + x, 0)),
          postgres: percent(used.at(-3) ?? 0),
          machine: percent(used.at(-1) ?? 0),
          other: percent(Math.max(0, (used.at(-1) ?? 0) - used.slice(0, -1).reduce((sum, x) => sum + x, 0))),
        },
        bus: traffic,
        publishErrors,
        mirroredMs,
        wallS,
      };
    } finally {
      await crowd.close();
    }
  } finally {
    await bus.close();
    publisher.close();
  }
}

/** bench/fanout.ts's configurations, each on freshly restarted nodes. */
export async function clusterFanoutBench(stack: ClusterBenchStack): Promise<ClusterFanoutRun[]> {
  const runs: ClusterFanoutRun[] = [];
  for (const [i, config] of FANOUT_CONFIGS.entries())
    runs.push(await clusterFanoutRun(stack, config, String(i)));
  return runs;
}
