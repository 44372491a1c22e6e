// What the benchmark prints (one table per part, in the same style) and the machine it ran on.
import os from "node:os";
import type { ClusterResult } from "./cluster.ts";
import { WINDOW } from "./cluster-throughput.ts";
import { SERVER_LABELS, SERVERS } from "./contenders.ts";
import { FANOUT_CONFIGS, type FanoutRun } from "./fanout.ts";
import { HISTORY_EVENTS, type HistoryResult, NEWEST_FETCHES, PAGE, RANDOM_FETCHES } from "./history.ts";
import { WARMUP } from "./latency.ts";
import { IDLE_COUNTS, IDLE_LIMIT_NOTE, IDLE_WAIT_MS, type IdleRun } from "./memory.ts";
import { AFTER_S, BEFORE_S, type OutageResult, PAUSE_S, RATE } from "./outage.ts";
import { CLIENTS, MISSED, type ReconnectResult, type Recovery } from "./reconnect.ts";
import { SYNAPSE_VERSION } from "./stack.ts";
import { formatTable, type Summary, summarize } from "./stats.ts";

export interface Machine {
  readonly cpu: string;
  readonly cores: number;
  readonly memory_gib: number;
  readonly node: string;
  readonly synapse: string;
}

export async function synapseVersion(hsUrl: string): Promise<string> {
  try {
    const res = await fetch(`${hsUrl}/_synapse/admin/v1/server_version`, {
      signal: AbortSignal.timeout(2_000),
    });
    const body = (await res.json()) as { server_version?: unknown };
    // Synapse appends git info of its working directory, which here is Parley's checkout: drop it.
    if (res.ok && typeof body.server_version === "string")
      return body.server_version.split(" ")[0] ?? SYNAPSE_VERSION;
  } catch {
    // not exposed on this listener: fall back to the pinned version
  }
  return SYNAPSE_VERSION;
}

export function machine(synapse: string): Machine {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? "unknown",
    cores: cpus.length,
    memory_gib: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    synapse,
  };
}

const ms = (x: number) => x.toFixed(2);
const HEADER = ["p50", "p90", "p99", "max", "mean"];
const row = (label: string, s: Summary) => [
  label,
  String(s.count),
  ms(s.p50),
  ms(s.p90),
  ms(s.p99),
  ms(s.max),
  ms(s.mean),
];
const print = (lines: string[]) => process.stdout.write(`${lines.join("\n")}\n`);
const thousands = (n: number) => n.toLocaleString("en-US");

export function printMachine(m: Machine): void {
  print([
    "",
    `machine: ${m.cpu}, ${m.cores} cores, ${m.memory_gib} GiB RAM, Node ${m.node}, Synapse ${m.synapse}`,
  ]);
}

export interface LatencySummaries {
  readonly native: Summary;
  readonly matrix: Summary;
  readonly nativeToMatrix: Summary;
  readonly matrixToNative: Summary;
}

const ratio = (a: Summary, b: Summary) => ({ p50: a.p50 / b.p50, p99: a.p99 / b.p99 });
const times = (x: number) => `${x.toFixed(2)}x`;
const verdict = (met: boolean) => (met ? "met" : "NOT met");

export function printLatency(n: number, s: LatencySummaries, drainMs: number) {
  const ratios = {
    native: ratio(s.native, s.matrix),
    matrixToNative: ratio(s.matrixToNative, s.matrix),
    nativeToMatrix: ratio(s.nativeToMatrix, s.matrix),
  };
  print([
    "",
    `latency: ${n} sequential messages per path after ${WARMUP} warm-up ones; A sends -> B has it, in ms`,
    "",
    formatTable([
      ["path", "messages", ...HEADER],
      row("native -> native", s.native),
      row("matrix -> matrix", s.matrix),
      row("native -> matrix", s.nativeToMatrix),
      row("matrix -> native", s.matrixToNative),
    ]),
    "",
    `native->native / matrix->matrix: p50 ${times(ratios.native.p50)}, p99 ${times(ratios.native.p99)} ` +
      `(goal: p50 <= 0.2x: ${verdict(ratios.native.p50 <= 0.2)})`,
    `matrix->native / matrix->matrix: p50 ${times(ratios.matrixToNative.p50)}, ` +
      `p99 ${times(ratios.matrixToNative.p99)}`,
    `native->matrix / matrix->matrix: p50 ${times(ratios.nativeToMatrix.p50)}, ` +
      `p99 ${times(ratios.nativeToMatrix.p99)}`,
    `(the outbox had posted the ${n + WARMUP} native->native messages to Synapse ` +
      `${(drainMs / 1000).toFixed(1)} s after the last was sent)`,
  ]);
  return ratios;
}

export function printHistory(h: HistoryResult, random: Summary, newest: Summary): void {
  print([
    "",
    `history: chat.fetch of ${PAGE} events from a channel of ${thousands(h.maxId)} events, one request at`,
    "a time over one connection; request -> reply, in ms",
    "",
    formatTable([["page", "fetches", ...HEADER], row("random before_id", random), row("newest", newest)]),
    "",
    `(${thousands(HISTORY_EVENTS)} messages written into the log in ${(h.insertMs / 1000).toFixed(2)} s ` +
      `with Parley stopped; ${thousands(RANDOM_FETCHES)} random and ${NEWEST_FETCHES} newest pages)`,
  ]);
}

const STEPS = [
  ["connect -> fetch reply", "total"],
  ["  WebSocket open", "connect"],
  ["  authenticate", "authenticate"],
  ["  chat.subscribe", "subscribe"],
  [`  chat.fetch (${MISSED})`, "fetch"],
] as const;

export type RecoverySummaries = Record<(typeof STEPS)[number][1], Summary>;

export function recoverySummaries(r: ReconnectResult): RecoverySummaries {
  const of = (step: keyof Recovery) => summarize(r.recovery.map((x) => x[step]));
  return {
    total: of("total"),
    connect: of("connect"),
    authenticate: of("authenticate"),
    subscribe: of("subscribe"),
    fetch: of("fetch"),
  };
}

export function printReconnect(r: ReconnectResult, s: RecoverySummaries): void {
  print([
    "",
    `reconnect: ${thousands(CLIENTS)} clients that missed ${MISSED} messages reconnect at once; each connects,`,
    "authenticates, chat.subscribes and chat.fetches after its last seen id; per client, in ms",
    "",
    formatTable([["step", "clients", ...HEADER], ...STEPS.map(([label, key]) => row(label, s[key]))]),
    "",
    `all ${thousands(CLIENTS)} recovered after ${ms(r.wallMs)} ms ` +
      `(the first connection, in batches of 100, took ${(r.setupMs / 1000).toFixed(1)} s)`,
  ]);
}

const pct = (x: number) => `${x.toFixed(2)}%`;
const kib = (x: number) => x.toFixed(2);
const maybe = (s: Summary | undefined, f: (s: Summary) => number) => (s ? ms(f(s)) : "-");

export function printFanout(runs: readonly FanoutRun[]): void {
  const rows = runs.map((r) => [
    SERVER_LABELS[r.server],
    thousands(r.subscribers),
    String(r.rate),
    thousands(r.messages),
    pct((100 * r.received) / r.expected),
    maybe(r.latency, (s) => s.p50),
    maybe(r.latency, (s) => s.p99),
    maybe(r.latency, (s) => s.max),
    kib(r.rssPerConnKiB),
    `${r.cpu.server.toFixed(0)} / ${r.cpu.clients.toFixed(0)} / ${r.cpu.synapse.toFixed(0)}`,
  ]);
  const goals: string[] = [];
  for (const config of FANOUT_CONFIGS) {
    const of = (server: string) =>
      runs.find((r) => r.server === server && r.subscribers === config.subscribers && r.rate === config.rate);
    const [parley, ws, socketio] = [of("parley"), of("ws"), of("socketio")];
    if (!parley || !ws || !socketio) continue;
    const all = [parley, ws, socketio].every((r) => r.received === r.expected);
    const p99 = parley.latency && socketio.latency ? [parley.latency.p99, socketio.latency.p99] : undefined;
    const memory = parley.rssPerConnKiB / ws.rssPerConnKiB;
    goals.push(
      `${thousands(config.subscribers)} x ${config.rate}/s: 100% delivered everywhere: ${verdict(all)}; ` +
        `Parley p99 <= Socket.IO p99: ${p99 ? `${ms(p99[0] ?? 0)} vs ${ms(p99[1] ?? 0)} ms, ${verdict((p99[0] ?? 0) <= (p99[1] ?? 0))}` : "no samples"}; ` +
        `Parley RSS/conn <= 2x raw ws: ${times(memory)}, ${verdict(memory <= 2)}`,
    );
  }
  const notes = runs.flatMap((r) => {
    const what = `${SERVER_LABELS[r.server]} ${thousands(r.subscribers)} x ${r.rate}/s`;
    const out: string[] = [];
    if (r.dropped > 0) out.push(`${what}: ${r.dropped} sockets dropped (${JSON.stringify(r.dropReasons)})`);
    if (r.duplicates > 0) out.push(`${what}: ${r.duplicates} duplicate deliveries`);
    if (r.foreign > 0) out.push(`${what}: ${r.foreign} other frames at subscribers`);
    const refused = Object.entries(r.publishErrors);
    if (refused.length > 0)
      out.push(
        `${what}: chat.send not answered with success: ${refused.map(([c, n]) => `${n} ${c}`).join(", ")}`,
      );
    if (r.mirroredMs !== undefined)
      out.push(
        `${what}: ${r.mirroredMs === null ? "the last message had NOT reached Matrix" : `the last message was in the Matrix room ${(r.mirroredMs / 1000).toFixed(1)} s`} after the last send`,
      );
    return out;
  });
  print([
    "",
    "fan-out: one publisher sends R msg/s for 15 s (after 2 s of warm-up) to N subscribers in 4 client",
    "processes; per delivery, send -> arrival in ms; RSS/conn = (server RSS with all N subscribed - RSS",
    "before) / N, in KiB; CPU in % of one core (of 2) from the first measured send to the last delivery",
    "",
    formatTable([
      [
        "server",
        "subscribers",
        "msg/s",
        "messages",
        "delivered",
        "p50",
        "p99",
        "max",
        "RSS/conn KiB",
        "CPU % srv/cli/Synapse",
      ],
      ...rows,
    ]),
    "",
    "goals:",
    ...goals.map((g) => `  ${g}`),
    ...(notes.length > 0 ? ["notes:", ...notes.map((n) => `  ${n}`)] : []),
  ]);
}

export function printIdle(runs: readonly IdleRun[]): void {
  const top = IDLE_COUNTS[IDLE_COUNTS.length - 1] ?? 0;
  const run = (server: string, n: number) => runs.find((r) => r.server === server && r.connections === n);
  const label = (n: number) => `${thousands(n)}${n === top ? " (*)" : ""}`;
  const memory = IDLE_COUNTS.map((n) => {
    const [parley, ws] = [run("parley", n)?.rssPerConnKiB, run("ws", n)?.rssPerConnKiB];
    return [
      label(n),
      ...SERVERS.map((server) => {
        const r = run(server, n);
        return r === undefined ? "-" : kib(r.rssPerConnKiB);
      }),
      parley !== undefined && ws !== undefined ? times(parley / ws) : "-",
    ];
  });
  const connect = IDLE_COUNTS.map((n) => [
    label(n),
    ...SERVERS.map((server) => {
      const r = run(server, n);
      return r === undefined ? "-" : `${r.connectCpuMs.toFixed(2)} ms (${r.connectS.toFixed(1)} s)`;
    }),
  ]);
  const header = ["connections", ...SERVERS.map((server) => SERVER_LABELS[server])];
  print([
    "",
    `idle memory: N connections sit idle ${IDLE_WAIT_MS / 1000} s (Parley: authenticated and subscribed to one channel;`,
    "raw ws: open; Socket.IO: in one room); (server RSS after - before) / N, in KiB per connection",
    "",
    formatTable([[...header, "Parley/ws"], ...memory]),
    "",
    "connecting them: server CPU per connection (Parley: with authenticate and chat.subscribe), and",
    "the wall time until all N were connected",
    "",
    formatTable([header, ...connect]),
    "",
    `(*) ${IDLE_LIMIT_NOTE}; open files at ${thousands(top)}: ` +
      SERVERS.map((server) => {
        const files = run(server, top)?.openFiles;
        return `${SERVER_LABELS[server]} ${files === undefined ? "-" : thousands(files)}`;
      }).join(", "),
    ...runs
      .filter((r) => Object.keys(r.dropped).length > 0)
      .map(
        (r) =>
          `${SERVER_LABELS[r.server]} ${thousands(r.connections)}: connections dropped while idle ${JSON.stringify(r.dropped)}`,
      ),
  ]);
}

export function printOutage(o: OutageResult): void {
  const s = o.nativeDuringPause;
  print([
    "",
    `outage: a native publisher sends ${RATE} msg/s to a channel with one native subscriber and one Matrix`,
    `user (/sync); ${BEFORE_S} s in, Synapse is stopped (SIGSTOP) for ${PAUSE_S} s, then continued (SIGCONT);`,
    `publishing goes on ${AFTER_S} s more`,
    "",
    formatTable([
      ["side", "sent", "lost", "duplicated"],
      ["native subscriber", String(o.sent), String(o.native.lost), String(o.native.duplicated)],
      ["Matrix room", String(o.sent), String(o.matrix.lost), String(o.matrix.duplicated)],
    ]),
    "",
    `goals: lost 0 and duplicated 0 on both sides: ${verdict(
      o.native.lost + o.native.duplicated + o.matrix.lost + o.matrix.duplicated === 0,
    )}`,
    s
      ? `native delivery during the pause (${o.sentDuringPause} messages): p50 ${ms(s.p50)} ms, ` +
        `p99 ${ms(s.p99)} ms, max ${ms(s.max)} ms`
      : `native delivery during the pause: none of the ${o.sentDuringPause} messages arrived`,
    `Matrix caught up: the pause's last message ${(o.matrixCatchUpMs / 1000).toFixed(2)} s after SIGCONT ` +
      `(its first ${(o.matrixFirstMs / 1000).toFixed(2)} s after; the last of all ${(o.matrixAllMs / 1000).toFixed(2)} s after)`,
    `chat.send not answered with success: ${o.sendErrors}`,
    "",
  ]);
}

/** The single-node figures the cluster part is read against, from the same run (when it had them). */
export interface ClusterAnchors {
  /** The latency part's native -> native (one node, SQLite). */
  readonly native?: Summary;
  /** The fan-out part's runs: the Parley rows are the single-node anchors. */
  readonly fanout?: readonly FanoutRun[];
}

/** The worked estimate's question: this many viewers of one channel, at this rate. */
export const ESTIMATE = { viewers: 100_000, rate: 20, utilization: 0.5 } as const;

const us = (x: number) => x.toFixed(1);
const pair = (a: string, b: string) => `${a} / ${b}`;
const lat = (s: Summary | undefined) => (s ? pair(ms(s.p50), ms(s.p99)) : "-");

export function printCluster(c: ClusterResult, anchors: ClusterAnchors = {}): void {
  const h = c.hop;
  const hopRows = [
    row("on node 1 (the sender's)", h.sameNode),
    row("on node 2 (over the bus)", h.otherNode),
    row("node 2 - node 1, per message", h.hop),
  ];
  if (anchors.native) hopRows.push(row("anchor: 1 node (SQLite)", anchors.native));
  const single = (subscribers: number, rate: number) =>
    anchors.fanout?.find((r) => r.server === "parley" && r.subscribers === subscribers && r.rate === rate);
  const underLoad = c.fanout.map((r) => {
    const [n1, n2] = [r.nodes[0], r.nodes[1]];
    const anchor = single(r.subscribers, r.rate);
    return [
      `fan-out ${thousands(r.subscribers)} x ${r.rate}/s`,
      lat(n1?.latency),
      lat(n2?.latency),
      n1?.latency && n2?.latency
        ? pair(ms(n2.latency.p50 - n1.latency.p50), ms(n2.latency.p99 - n1.latency.p99))
        : "-",
      lat(anchor?.latency),
    ];
  });
  for (const t of c.throughput) {
    const [n1, n2] = [t.nodes[0], t.nodes[1]];
    underLoad.push([
      `throughput, ${t.channels} channel${t.channels === 1 ? "" : "s"}`,
      lat(n1?.latency),
      lat(n2?.latency),
      n1?.latency && n2?.latency
        ? pair(ms(n2.latency.p50 - n1.latency.p50), ms(n2.latency.p99 - n1.latency.p99))
        : "-",
      "-",
    ]);
  }

  // Fan-out: the single-node anchor, then the two-node run and each node's share.
  const fanoutRows: string[][] = [];
  const cpuPerDelivery: Array<{ label: string; us: number; perNode: number; rate: number; p99: number }> = [];
  for (const r of c.fanout) {
    const anchor = single(r.subscribers, r.rate);
    if (anchor)
      fanoutRows.push([
        "1 node (SQLite)",
        thousands(r.subscribers),
        String(r.rate),
        pct((100 * anchor.received) / anchor.expected),
        maybe(anchor.latency, (s) => s.p50),
        maybe(anchor.latency, (s) => s.p99),
        maybe(anchor.latency, (s) => s.max),
        kib(anchor.rssPerConnKiB),
        anchor.cpu.server.toFixed(0),
        `- / - / ${anchor.cpu.synapse.toFixed(0)} / ${anchor.cpu.clients.toFixed(0)}`,
      ]);
    fanoutRows.push([
      `${c.nodes} nodes`,
      thousands(r.subscribers),
      String(r.rate),
      pct((100 * r.received) / r.expected),
      maybe(r.latency, (s) => s.p50),
      maybe(r.latency, (s) => s.p99),
      maybe(r.latency, (s) => s.max),
      r.nodes.map((n) => kib(n.rssPerConnKiB)).join(" / "),
      r.nodes.map((n) => n.cpu.toFixed(0)).join(" / "),
      [r.cpu.redis, r.cpu.postgres, r.cpu.synapse, r.cpu.clients].map((x) => x.toFixed(0)).join(" / "),
    ]);
    r.nodes.forEach((n, i) => {
      fanoutRows.push([
        `  node ${i + 1}${i === 0 ? " (publisher's)" : ""}`,
        thousands(n.subscribers),
        String(r.rate),
        pct((100 * n.received) / n.expected),
        maybe(n.latency, (s) => s.p50),
        maybe(n.latency, (s) => s.p99),
        maybe(n.latency, (s) => s.max),
        kib(n.rssPerConnKiB),
        n.cpu.toFixed(0),
        "",
      ]);
      if (n.received > 0 && n.latency)
        cpuPerDelivery.push({
          label: `node ${i + 1}, ${thousands(r.subscribers)} x ${r.rate}/s`,
          us: ((n.cpu / 100) * r.wallS * 1e6) / n.received,
          perNode: n.subscribers,
          rate: r.rate,
          p99: n.latency.p99,
        });
    });
  }
  const anchorOf = (r: { subscribers: number; rate: number }) => single(r.subscribers, r.rate);
  const fanoutNotes = c.fanout.flatMap((r) => {
    const what = `${thousands(r.subscribers)} x ${r.rate}/s`;
    const out = [
      `${what}: the bus carried ${Object.entries(r.bus.byKind)
        .map(([kind, n]) => `${thousands(n)} ${kind}`)
        .join(", ")} message(s) for ${thousands(r.messages)} sends` +
        (r.bus.eventBytes > 0 ? `; an event message is ${r.bus.eventBytes.toFixed(0)} bytes on average` : ""),
      `${what}: ${r.mirroredMs === null ? "the last message had NOT reached Matrix" : `the last message was in the Matrix room ${(r.mirroredMs / 1000).toFixed(1)} s after the run`}`,
      `${what}: RSS growth with the subscribers connected, node 1 / node 2: ` +
        `${r.nodes.map((n) => ((n.rssAfterKiB - n.rssBeforeKiB) / 1024).toFixed(1)).join(" / ")} MiB` +
        (anchorOf(r)
          ? ` (1 node: ${((anchorOf(r)?.rssAfterKiB ?? 0) / 1024 - (anchorOf(r)?.rssBeforeKiB ?? 0) / 1024).toFixed(1)} MiB)`
          : ""),
      `${what}: the machine was busy ${r.cpu.machine.toFixed(0)}% of one core (of ${os.cpus().length}); ` +
        `${r.cpu.other.toFixed(0)}% of it outside the processes above (the kernel, or other programs)`,
    ];
    r.nodes.forEach((n, i) => {
      if (n.dropped > 0)
        out.push(`${what}: node ${i + 1}: ${n.dropped} sockets dropped (${JSON.stringify(n.dropReasons)})`);
      if (n.duplicates > 0) out.push(`${what}: node ${i + 1}: ${n.duplicates} duplicate deliveries`);
      if (n.foreign > 0) out.push(`${what}: node ${i + 1}: ${n.foreign} other frames at subscribers`);
    });
    const refused = Object.entries(r.publishErrors);
    if (refused.length > 0)
      out.push(
        `${what}: chat.send not answered with success: ${refused.map(([k, n]) => `${n} ${k}`).join(", ")}`,
      );
    return out;
  });
  for (const r of anchors.fanout ?? []) {
    if (r.server !== "parley" || r.received === 0 || !r.latency) continue;
    // The single-node run's CPU share is over its wall time, which is not recorded: 15 s of sends
    // plus the last delivery's latency is within a few % of it.
    const wall = r.seconds + r.latency.max / 1000;
    cpuPerDelivery.push({
      label: `1 node, ${thousands(r.subscribers)} x ${r.rate}/s (approx.)`,
      us: ((r.cpu.server / 100) * wall * 1e6) / r.received,
      perNode: r.subscribers,
      rate: r.rate,
      p99: r.latency.p99,
    });
  }

  const redisRows = c.redis.map((r) => [
    String(r.subscribers),
    thousands(r.messages),
    thousands(Math.round(r.publishedPerS)),
    thousands(Math.round(r.deliveredPerS)),
    r.redisCpu.toFixed(0),
    us(r.redisUsPerMessage),
    thousands(Math.round((1e6 / r.redisUsPerMessage) * 1)),
    r.clientCpu.toFixed(0),
  ]);

  const tputRows = c.throughput.map((t) => [
    String(t.channels),
    String(t.senders),
    thousands(t.messages),
    thousands(Math.round(t.acceptedPerS)),
    t.nodes.map((n) => `${n.drainS.toFixed(2)} s`).join(" / "),
    t.nodes.map((n) => thousands(Math.round(n.received / n.drainS))).join(" / "),
    [...t.cpu.nodes, t.cpu.postgres, t.cpu.redis, t.cpu.synapse, t.cpu.bench]
      .map((x) => x.toFixed(0))
      .join(" / "),
  ]);
  const tputNotes = c.throughput.flatMap((t) => {
    const out: string[] = [
      `${t.channels} channel(s): the machine was busy ${t.cpu.machine.toFixed(0)}% of one core (of ${os.cpus().length}); ` +
        `${t.cpu.other.toFixed(0)}% of it outside the processes above (the kernel, or other programs)`,
    ];
    const errors = Object.entries(t.errors);
    if (errors.length > 0)
      out.push(`${t.channels} channel(s): not success: ${errors.map(([k, n]) => `${n} ${k}`).join(", ")}`);
    t.nodes.forEach((n, i) => {
      if (n.received < t.messages)
        out.push(
          `${t.channels} channel(s): node ${i + 1}'s subscriber had only ${n.received} of ${t.messages}`,
        );
    });
    return out;
  });

  const mirrorRate =
    h.drainMs === null ? undefined : (h.messages + WARMUP) / ((h.seriesMs + h.drainMs) / 1000);
  const loggedLines = Object.entries(c.logged)
    .sort((x, y) => y[1] - x[1])
    .map(([line, count]) => {
      const before = c.loggedBeforeThroughput[line] ?? 0;
      return `  ${String(count).padStart(5)}  ${line}  (${before} before the throughput part)`;
    });

  // The worked estimate, from the most expensive delivery measured on a node that only fans out.
  const estimate: string[] = [];
  const node2 = cpuPerDelivery.filter((x) => x.label.startsWith("node 2"));
  const worst = node2.reduce<(typeof node2)[number] | undefined>(
    (a, b) => (a && a.us >= b.us ? a : b),
    undefined,
  );
  // Redis's CPU per published message as a line through the two subscriber counts measured.
  const [few, many] = [c.redis[0], c.redis[c.redis.length - 1]];
  const perSubscriber =
    few && many && many.subscribers > few.subscribers
      ? (many.redisUsPerMessage - few.redisUsPerMessage) / (many.subscribers - few.subscribers)
      : undefined;
  const busMessages = c.fanout.reduce(
    (sum, r) => sum + Object.values(r.bus.byKind).reduce((a, b) => a + b, 0),
    0,
  );
  const busPerSend =
    busMessages /
    Math.max(
      1,
      c.fanout.reduce((sum, r) => sum + r.messages, 0),
    );
  if (worst) {
    const deliveries = ESTIMATE.viewers * ESTIMATE.rate;
    const perCore = 1e6 / worst.us;
    const viewersPerCore = (ESTIMATE.utilization * perCore) / ESTIMATE.rate;
    const nodes = Math.ceil(ESTIMATE.viewers / viewersPerCore);
    const perNode = Math.ceil(ESTIMATE.viewers / nodes);
    const burstMs = (perNode * worst.us) / 1000;
    estimate.push(
      `${thousands(ESTIMATE.viewers)} viewers x ${ESTIMATE.rate} msg/s = ${thousands(deliveries)} deliveries/s`,
      `a delivery costs a fan-out node ${us(worst.us)} CPU-us (the most of: ${node2.map((x) => `${x.label} ${us(x.us)}`).join(", ")})`,
      `  -> one core pushes ${thousands(Math.round(perCore))} deliveries/s at 100%; at ${ESTIMATE.utilization * 100}% ` +
        `${thousands(Math.round(viewersPerCore))} viewers at ${ESTIMATE.rate}/s`,
      `  -> ${thousands(nodes)} one-core nodes (${thousands(perNode)} viewers each; ` +
        `pushing one message to them takes ${burstMs.toFixed(1)} ms of CPU)`,
    );
    if (few && perSubscriber !== undefined) {
      const busPerS = ESTIMATE.rate * busPerSend;
      const usPerBusMessage = few.redisUsPerMessage + perSubscriber * (nodes - few.subscribers);
      const busShare = (busPerS * usPerBusMessage) / 1e4;
      const beats = nodes / 5;
      const presenceShare = (beats * c.heartbeat.redisUsPerBeat * (perNode / c.heartbeat.members)) / 1e4;
      estimate.push(
        `the bus: ${busPerSend.toFixed(2)} bus messages per send in the fan-out runs -> ${busPerS.toFixed(0)}/s, each to ` +
          `${thousands(nodes)} nodes = ${thousands(Math.round(busPerS * nodes))} deliveries/s from Redis`,
        `  Redis CPU per message: ${us(few.redisUsPerMessage)} us to ${few.subscribers} subscribers, ` +
          `${us(perSubscriber)} us per further subscriber -> ${us(usPerBusMessage)} us to ${thousands(nodes)} -> ` +
          `${busShare.toFixed(2)}% of a core`,
        `  presence: ${thousands(nodes)} nodes rewrite their ${thousands(perNode)} users every 5 s = ${beats.toFixed(1)} heartbeats/s x ` +
          `${thousands(Math.round((c.heartbeat.redisUsPerBeat * perNode) / c.heartbeat.members))} us -> ${presenceShare.toFixed(1)}% of a core`,
      );
    }
  }

  print([
    "",
    `cluster: ${c.nodes} Parley nodes over one private PostgreSQL and one Redis, with their own Synapse;`,
    "every process of the cluster, its clients and the benchmark share the same cores",
    "",
    `hop: ${h.messages} sequential messages after ${WARMUP} warm-up ones from a native sender on node 1, each timed`,
    "at a subscriber on node 1 and one on node 2 at once; send -> the subscriber has it, in ms",
    "",
    formatTable([["subscriber", "messages", ...HEADER], ...hopRows]),
    "",
    h.drainMs === null
      ? "(the outbox had NOT mirrored the series to Synapse within the timeout)"
      : `(the outbox had posted the series to Synapse ${(h.drainMs / 1000).toFixed(1)} s after the last was sent: ` +
        `${mirrorRate?.toFixed(1)} msg/s into one room, one post in flight)`,
    "",
    "the hop under load: the same messages at both nodes' subscribers (the runs below), p50 / p99 in ms",
    "",
    formatTable([["run", "node 1", "node 2", "node 2 - node 1", "anchor: 1 node"], ...underLoad]),
    "",
    `fan-out over ${c.nodes} nodes: bench/fan-out's runs (a publisher on node 1, R msg/s for 15 s after 2 s`,
    "of warm-up), the subscribers split evenly over the nodes in the same 4 client processes (2 per node);",
    "per delivery, send -> arrival in ms; RSS/conn in KiB and CPU in % of one core per node (node 1 / node 2)",
    "",
    formatTable([
      [
        "setup",
        "subscribers",
        "msg/s",
        "delivered",
        "p50",
        "p99",
        "max",
        "RSS/conn KiB",
        "CPU % Parley",
        "CPU % Redis/PG/Synapse/cli",
      ],
      ...fanoutRows,
    ]),
    "",
    "notes:",
    ...fanoutNotes.map((n) => `  ${n}`),
    "fan-out CPU per delivery (a node's CPU time / the deliveries to its subscribers):",
    ...cpuPerDelivery.map((x) => `  ${x.label}: ${us(x.us)} us (p99 ${ms(x.p99)} ms)`),
    "",
    "the bus alone: Redis pub/sub on the cluster's Redis, one pipelined publisher and k subscribers",
    `(as k nodes), all ioredis connections in the benchmark process; messages of ${c.redis[0]?.bytes ?? "-"} bytes (the`,
    "mean event message above); capacity = what Redis's CPU per message allows on one core",
    "",
    formatTable([
      [
        "subscribers",
        "messages",
        "published/s",
        "delivered/s",
        "Redis CPU %",
        "Redis us/msg",
        "capacity msg/s",
        "client CPU %",
      ],
      ...redisRows,
    ]),
    `presence heartbeat (SET, SADD, DEL, SADD of ${thousands(c.heartbeat.members)} users, PEXPIRE in one MULTI, as a node ` +
      `does every 5 s): ${thousands(Math.round(c.heartbeat.redisUsPerBeat))} us of Redis CPU each`,
    "",
    `throughput: native senders on node 1, ${WINDOW} chat.sends in flight each, not waiting for delivery;`,
    "accepted = messages / (first send -> last success reply); drain = first send -> the last message at",
    "the subscriber on node 1 / node 2; CPU in % of one core over the whole drain",
    "",
    formatTable([
      [
        "channels",
        "senders",
        "messages",
        "accepted msg/s",
        "drain n1 / n2",
        "msg/s n1 / n2",
        "CPU % n1/n2/PG/Redis/Synapse/bench",
      ],
      ...tputRows,
    ]),
    ...(tputNotes.length > 0 ? ["", ...tputNotes] : []),
    "",
    "estimate (the arithmetic of docs/benchmarks.md, with this run's figures):",
    ...estimate.map((line) => `  ${line}`),
    ...(mirrorRate === undefined
      ? []
      : [
          `  one room's Matrix mirror (the hop series): ${mirrorRate.toFixed(1)} msg/s, one post in flight; ` +
            `it does not grow with the nodes`,
        ]),
    ...(loggedLines.length > 0
      ? ["", "the nodes' warnings and errors (ids and numbers masked), with how often:", ...loggedLines]
      : []),
    ...(c.bugs.length > 0 ? ["", `the nodes logged ${c.bugs.length} bug(s):`, ...c.bugs] : []),
    "",
  ]);
}
