// What the benchmark prints (one table per part, in the same style) and the machine it ran on.
import os from "node:os";
import { HISTORY_EVENTS, type HistoryResult, NEWEST_FETCHES, PAGE, RANDOM_FETCHES } from "./history.ts";
import { WARMUP } from "./latency.ts";
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

export function printLatency(n: number, native: Summary, matrix: Summary): { p50: number; p99: number } {
  const ratios = { p50: native.p50 / matrix.p50, p99: native.p99 / matrix.p99 };
  print([
    "",
    `latency: ${n} sequential messages per path after ${WARMUP} warm-up ones; A sends -> B has it, in ms`,
    "",
    formatTable([["path", "messages", ...HEADER], row("native", native), row("matrix", matrix)]),
    "",
    `native/matrix: p50 ${ratios.p50.toFixed(2)}x, p99 ${ratios.p99.toFixed(2)}x`,
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
    "",
  ]);
}
