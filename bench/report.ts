// What the benchmark prints (one table per part, in the same style) and the machine it ran on.
import os from "node:os";
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
