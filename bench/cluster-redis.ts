// The bus alone: how many messages a second Redis pub/sub carries, on the cluster's private Redis,
// at the size of the event messages Parley's bus carried in the fan-out part. One publisher
// (pipelined, a bounded number of messages ahead of the slowest subscriber, so Redis's output
// buffers stay far below its pub/sub limits) and k subscriber connections, as k nodes would
// subscribe; all of them ioredis connections in the benchmark process, on a channel of their own
// (the nodes subscribe to parley:bus only and see none of it). The wall time runs from the first
// publish until every subscriber has every message.
import { Redis } from "ioredis";
import type { ClusterBenchStack } from "./cluster-stack.ts";
import { cpuSeconds, sleep } from "./procs.ts";
import { progress } from "./stack.ts";

export const REDIS_CONFIGS = [
  { subscribers: 2, messages: 200_000 },
  { subscribers: 8, messages: 100_000 },
] as const;
const WARMUP_MESSAGES = 20_000;
const CHANNEL = "bench:bus";
const BATCH = 100;
const IN_FLIGHT = 8;
/** At most this many messages published ahead of the slowest subscriber. */
const MAX_LAG = 20_000;
const TIMEOUT_MS = 120_000;

export interface RedisRun {
  readonly subscribers: number;
  readonly messages: number;
  readonly bytes: number;
  readonly wallS: number;
  /** Published messages a second (each delivered to every subscriber). */
  readonly publishedPerS: number;
  /** Deliveries a second: publishedPerS x subscribers. */
  readonly deliveredPerS: number;
  /** Redis's CPU in % of one core (Redis runs commands on one thread). */
  readonly redisCpu: number;
  /** The benchmark process (publisher and subscribers), in % of one core. */
  readonly clientCpu: number;
  /** Redis's CPU per published message (with its deliveries), in microseconds. */
  readonly redisUsPerMessage: number;
}

async function connected(url: string): Promise<Redis> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  return redis;
}

async function redisRun(
  stack: ClusterBenchStack,
  subscriberCount: number,
  messages: number,
  bytes: number,
): Promise<RedisRun> {
  const publisher = await connected(stack.redis.url);
  const subscribers = await Promise.all(
    Array.from({ length: subscriberCount }, () => connected(stack.redis.url)),
  );
  const counts = subscribers.map(() => 0);
  try {
    subscribers.forEach((subscriber, i) => {
      subscriber.on("messageBuffer", () => {
        counts[i] = (counts[i] ?? 0) + 1;
      });
    });
    await Promise.all(subscribers.map((subscriber) => subscriber.subscribe(CHANNEL)));
    const payload = Buffer.alloc(bytes, "x");
    const slowest = () => Math.min(...counts);
    const blast = async (total: number) => {
      counts.fill(0);
      let published = 0;
      const inflight = new Set<Promise<unknown>>();
      const deadline = performance.now() + TIMEOUT_MS;
      while (published < total) {
        if (performance.now() > deadline)
          throw new Error(`Redis pub/sub: ${published} of ${total} published`);
        if (inflight.size >= IN_FLIGHT || published - slowest() > MAX_LAG) {
          await (inflight.size > 0 ? Promise.race(inflight) : sleep(1));
          continue;
        }
        const n = Math.min(BATCH, total - published);
        const pipeline = publisher.pipeline();
        for (let j = 0; j < n; j++) pipeline.publish(CHANNEL, payload);
        published += n;
        const done: Promise<unknown> = pipeline.exec().finally(() => inflight.delete(done));
        inflight.add(done);
      }
      await Promise.all(inflight);
      while (slowest() < total) {
        if (performance.now() > deadline)
          throw new Error(`Redis pub/sub: the slowest subscriber had ${slowest()} of ${total}`);
        await sleep(1);
      }
    };
    await blast(WARMUP_MESSAGES);
    const [redisBefore, clientBefore, started] = [
      cpuSeconds(stack.redisPid),
      process.cpuUsage(),
      performance.now(),
    ];
    await blast(messages);
    const wallS = (performance.now() - started) / 1000;
    const redisCpuS = cpuSeconds(stack.redisPid) - redisBefore;
    const client = process.cpuUsage(clientBefore);
    const run: RedisRun = {
      subscribers: subscriberCount,
      messages,
      bytes,
      wallS,
      publishedPerS: messages / wallS,
      deliveredPerS: (messages * subscriberCount) / wallS,
      redisCpu: (100 * redisCpuS) / wallS,
      clientCpu: (100 * (client.user + client.system)) / 1e6 / wallS,
      redisUsPerMessage: (redisCpuS * 1e6) / messages,
    };
    progress(
      `cluster redis: ${subscriberCount} subscribers, ${Math.round(run.publishedPerS)} msg/s published, ` +
        `Redis at ${run.redisCpu.toFixed(0)}% of a core`,
    );
    return run;
  } finally {
    await Promise.all([publisher, ...subscribers].map((r) => r.quit().catch(() => r.disconnect())));
  }
}

/** A presence heartbeat of a node with this many users (src/redis/presence.ts), and how many. */
export const HEARTBEAT = { members: 2_000, beats: 1_000 } as const;

export interface HeartbeatRun {
  readonly members: number;
  readonly beats: number;
  /** Redis's CPU per heartbeat, in microseconds. */
  readonly redisUsPerBeat: number;
  /** Heartbeats a second, one at a time. */
  readonly beatsPerS: number;
}

/**
 * Redis's cost of the other steady traffic a node makes: every 5 s it writes its whole set of
 * connected users again (SET its heartbeat key, SADD the node, DEL and SADD its set, PEXPIRE), in
 * one MULTI, as src/redis/presence.ts does. Keys of the benchmark's own.
 */
async function heartbeatRun(stack: ClusterBenchStack): Promise<HeartbeatRun> {
  const redis = await connected(stack.redis.url);
  try {
    const members = Array.from({ length: HEARTBEAT.members }, (_, i) => `@chat_bench_viewer_${i}:localhost`);
    const beat = async () => {
      await redis
        .multi()
        .set("bench:node:x", String(Date.now()), "PX", 15_000)
        .sadd("bench:nodes", "x")
        .del("bench:online:x")
        .sadd("bench:online:x", ...members)
        .pexpire("bench:online:x", 15_000)
        .exec();
    };
    for (let i = 0; i < 20; i++) await beat();
    const [before, started] = [cpuSeconds(stack.redisPid), performance.now()];
    for (let i = 0; i < HEARTBEAT.beats; i++) await beat();
    const wallS = (performance.now() - started) / 1000;
    const redisUsPerBeat = ((cpuSeconds(stack.redisPid) - before) * 1e6) / HEARTBEAT.beats;
    await redis.del("bench:node:x", "bench:nodes", "bench:online:x");
    progress(
      `cluster redis: a presence heartbeat of ${HEARTBEAT.members} users costs Redis ${redisUsPerBeat.toFixed(0)} us`,
    );
    return { ...HEARTBEAT, redisUsPerBeat, beatsPerS: HEARTBEAT.beats / wallS };
  } finally {
    await redis.quit().catch(() => redis.disconnect());
  }
}

/** Every configuration, with messages of `bytes` bytes, then the presence heartbeat. */
export async function redisBench(
  stack: ClusterBenchStack,
  bytes: number,
): Promise<{ pubsub: RedisRun[]; heartbeat: HeartbeatRun }> {
  const size = Math.round(bytes);
  const pubsub: RedisRun[] = [];
  for (const config of REDIS_CONFIGS)
    pubsub.push(await redisRun(stack, config.subscribers, config.messages, size));
  return { pubsub, heartbeat: await heartbeatRun(stack) };
}
