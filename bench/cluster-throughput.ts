// Throughput: how many native messages a second one node accepts and logs with PostgreSQL. Native
// senders, all on node 1, each keep WINDOW chat.sends in flight on their own connection (a
// connection's requests run one at a time; the window keeps one always waiting) and never wait
// for delivery. The sending connections are not subscribed (each sender joined on another
// connection, which was closed), so they get only their replies. One subscriber on node 1 and
// one on node 2 (chat.subscribe to every channel of the run) time every message (its send time
// is in its body). Accepted msg/s: messages / (first send -> last success reply); drain: first
// send -> the last message at each subscriber. The outbox posts every message to Synapse as
// usual, meanwhile and afterwards (this part runs last; its backlog is dropped with the stack).
import WebSocket from "ws";
import { signToken } from "../src/auth/jwt.ts";
import { type ClusterBenchStack, machineBusySeconds, treeCpuSeconds } from "./cluster-stack.ts";
import { cpuSeconds, sleep } from "./procs.ts";
import { progress, withTimeout } from "./stack.ts";
import { type Summary, summarize } from "./stats.ts";

export const THROUGHPUT_CONFIGS = [
  { channels: 1, senders: 8, messages: 5_000 },
  { channels: 8, senders: 8, messages: 5_000 },
] as const;
/** chat.sends in flight per sending connection (Parley's default cap is 64). */
export const WINDOW = 16;
const WARMUP_PER_SENDER = 25;
const TIMEOUT_MS = 120_000;
const MARKER = '"body":"tput ';

export interface ThroughputNode {
  readonly received: number;
  /** First send -> the last message here, in s. */
  readonly drainS: number;
  /** Per message, send -> arrival here, in ms. */
  readonly latency: Summary | undefined;
}

export interface ThroughputRun {
  readonly channels: number;
  readonly senders: number;
  readonly window: number;
  readonly messages: number;
  /** First send -> last success reply, in s. */
  readonly acceptS: number;
  readonly acceptedPerS: number;
  /** Replies that were not success, by error code. */
  readonly errors: Record<string, number>;
  readonly nodes: ThroughputNode[];
  /** % of one core from the first send until the last message arrived. */
  readonly cpu: {
    readonly nodes: number[];
    readonly postgres: number;
    readonly redis: number;
    readonly synapse: number;
    readonly bench: number;
    /** The whole machine (all cores), and what of it none of the processes above used. */
    readonly machine: number;
    readonly other: number;
  };
}

/** A bare authenticated connection: frames as text, requests matched by ref. */
class Wire {
  readonly #ws: WebSocket;
  readonly #waiting = new Map<string, (text: string) => void>();
  #nextRef = 0;
  onText: (text: string) => void = () => {};

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.on("message", (data: Buffer) => {
      const text = data.toString("utf8");
      if (text.startsWith('["success"') || text.startsWith('["error"')) {
        const ref = /^\["(?:success|error)","([^"]*)"/.exec(text)?.[1];
        const waiter = ref === undefined ? undefined : this.#waiting.get(ref);
        if (ref !== undefined && waiter) {
          this.#waiting.delete(ref);
          waiter(text);
          return;
        }
      }
      this.onText(text);
    });
  }

  static async open(url: string, token: string): Promise<Wire> {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        ws.once("open", () => resolve());
        ws.once("error", reject);
      }),
      10_000,
      "a connection",
    );
    const wire = new Wire(ws);
    const first = await withTimeout(
      new Promise<string>((resolve) => {
        wire.onText = resolve;
        ws.send(JSON.stringify(["authenticate", { token }]));
      }),
      10_000,
      "authenticated",
    );
    if (!first.startsWith('["authenticated"')) throw new Error(`authenticate: ${first.slice(0, 200)}`);
    wire.onText = () => {};
    return wire;
  }

  /** Sends a request; resolves with the reply's text. */
  request(action: string, payload: Record<string, unknown>): Promise<string> {
    const ref = `w${this.#nextRef++}`;
    const reply = new Promise<string>((resolve) => this.#waiting.set(ref, resolve));
    this.#ws.send(JSON.stringify([action, ref, payload]));
    return withTimeout(reply, 30_000, `the reply to ${action}`);
  }

  async ok(action: string, payload: Record<string, unknown>): Promise<void> {
    const reply = await this.request(action, payload);
    if (!reply.startsWith('["success"')) throw new Error(`${action}: ${reply.slice(0, 200)}`);
  }

  close(): void {
    this.#ws.close();
  }
}

const now = () => performance.timeOrigin + performance.now();

async function throughputRun(
  stack: ClusterBenchStack,
  config: (typeof THROUGHPUT_CONFIGS)[number],
  tag: string,
): Promise<ThroughputRun> {
  const label = `cluster throughput, ${config.channels} channel(s), ${config.senders} senders`;
  const channels = Array.from({ length: config.channels }, (_, i) => `bench_ctput_${tag}_${i}`);
  const channelOf = (sender: number) => channels[sender % channels.length] as string;
  const token = (sub: string, name: string) => signToken(stack.jwtSecret, { sub, name });
  const [node1, node2] = stack.nodes;
  if (!node1 || !node2) throw new Error("the throughput part needs two nodes");
  const wires: Wire[] = [];
  const open = async (url: string, sub: string, name: string) => {
    const wire = await Wire.open(url, await token(sub, name));
    wires.push(wire);
    return wire;
  };
  try {
    // Each sender joins on a connection of its own that is then closed: its sending connection
    // stays unsubscribed (membership is the user's; subscriptions are per connection).
    const senderNames = Array.from({ length: config.senders }, (_, i) => `bench_ct${tag}_s${i}`);
    for (const [i, sub] of senderNames.entries()) {
      const joiner = await Wire.open(node1.gatewayUrl, await token(sub, `Sender ${i}`));
      await joiner.ok("chat.join", { channel: channelOf(i) });
      joiner.close();
    }
    const watchers = [
      await open(node1.gatewayUrl, `bench_ct${tag}_w1`, "Watcher 1"),
      await open(node2.gatewayUrl, `bench_ct${tag}_w2`, "Watcher 2"),
    ];
    for (const watcher of watchers)
      for (const channel of channels) await watcher.ok("chat.subscribe", { channel });
    const senders = await Promise.all(
      senderNames.map((sub, i) => open(node1.gatewayUrl, sub, `Sender ${i}`)),
    );

    // What each watcher saw: per sequence number, once; warm-up messages (negative) pass.
    const seen = watchers.map(() => new Uint8Array(config.messages));
    const latencies: number[][] = watchers.map(() => []);
    const lastAt = watchers.map(() => 0);
    watchers.forEach((watcher, w) => {
      watcher.onText = (text) => {
        const at = text.indexOf(MARKER);
        if (at < 0) return;
        const start = at + MARKER.length;
        const [seqText, sentText] = text.slice(start, text.indexOf('"', start)).split(" ");
        const seq = Number(seqText);
        const marks = seen[w] as Uint8Array;
        if (!(seq >= 0 && seq < marks.length) || marks[seq]) return;
        marks[seq] = 1;
        const arrived = now();
        latencies[w]?.push(arrived - Number(sentText));
        lastAt[w] = arrived;
      };
    });
    const received = (w: number) => (latencies[w] ?? []).length;

    const errors: Record<string, number> = {};
    const sendOne = async (sender: number, seq: number) => {
      const reply = await (senders[sender] as Wire).request("chat.send", {
        channel: channelOf(sender),
        event_type: "channel.message",
        content: { type: "text", body: `tput ${seq} ${now()}` },
      });
      if (seq >= 0 && !reply.startsWith('["success"')) {
        const code = /"code":"([^"]+)"/.exec(reply)?.[1] ?? "unknown";
        errors[code] = (errors[code] ?? 0) + 1;
      }
    };
    /** Sends `seqs` from `sender`, WINDOW in flight. */
    const pump = async (sender: number, seqs: number[]) => {
      let next = 0;
      const lane = async () => {
        while (next < seqs.length) await sendOne(sender, seqs[next++] as number);
      };
      await Promise.all(Array.from({ length: WINDOW }, lane));
    };

    progress(`${label}: warm-up`);
    await Promise.all(
      senders.map((_, s) =>
        pump(
          s,
          Array.from({ length: WARMUP_PER_SENDER }, (_, i) => -1 - i),
        ),
      ),
    );
    await sleep(1_000);

    const pids = [...stack.nodes.map((node) => node.pid()), stack.redisPid, stack.synapsePid];
    const cpuNow = () => [...pids.map(cpuSeconds), treeCpuSeconds(stack.postgresPid), machineBusySeconds()];
    const [cpuBefore, benchBefore] = [cpuNow(), process.cpuUsage()];
    const firstSend = now();
    progress(`${label}: ${config.messages} messages`);
    await Promise.all(
      senders.map((_, s) =>
        pump(
          s,
          Array.from({ length: config.messages }, (_, seq) => seq).filter(
            (seq) => seq % config.senders === s,
          ),
        ),
      ),
    );
    const lastReply = now();
    const deadline = performance.now() + TIMEOUT_MS;
    while (watchers.some((_, w) => received(w) < config.messages) && performance.now() < deadline)
      await sleep(20);
    const wallS = (Math.max(lastReply, ...lastAt) - firstSend) / 1000;
    const used = cpuNow().map((after, i) => after - (cpuBefore[i] ?? 0));
    const bench = process.cpuUsage(benchBefore);
    const percent = (seconds: number) => (100 * seconds) / wallS;
    const acceptS = (lastReply - firstSend) / 1000;
    const k = stack.nodes.length;
    const run: ThroughputRun = {
      channels: config.channels,
      senders: config.senders,
      window: WINDOW,
      messages: config.messages,
      acceptS,
      acceptedPerS: config.messages / acceptS,
      errors,
      nodes: watchers.map((_, w) => ({
        received: received(w),
        drainS: ((lastAt[w] ?? 0) - firstSend) / 1000,
        latency: received(w) > 0 ? summarize(latencies[w] ?? []) : undefined,
      })),
      cpu: {
        nodes: used.slice(0, k).map(percent),
        redis: percent(used[k] ?? 0),
        synapse: percent(used[k + 1] ?? 0),
        postgres: percent(used[k + 2] ?? 0),
        bench: percent((bench.user + bench.system) / 1e6),
        machine: percent(used[k + 3] ?? 0),
        other: percent(
          Math.max(
            0,
            (used[k + 3] ?? 0) -
              used.slice(0, k + 3).reduce((sum, x) => sum + x, 0) -
              (bench.user + bench.system) / 1e6,
          ),
        ),
      },
    };
    progress(`${label}: ${Math.round(run.acceptedPerS)} msg/s accepted`);
    return run;
  } finally {
    for (const wire of wires) wire.close();
  }
}

export async function throughputBench(stack: ClusterBenchStack): Promise<ThroughputRun[]> {
  const runs: ThroughputRun[] = [];
  for (const [i, config] of THROUGHPUT_CONFIGS.entries())
    runs.push(await throughputRun(stack, config, String(i)));
  return runs;
}
