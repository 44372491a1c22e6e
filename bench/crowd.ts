// A crowd of subscribers to one server, spread over CLIENT_PROCESSES child processes
// (bench/fanout-client.ts): one benchmark process could neither hold 20,000 sockets (the hard limit
// of 20,000 open files per process) nor read 50,000 messages a second without becoming what is
// measured. Each process connects from its own loopback address (127.0.0.11, .12, ...), so the
// crowds never share one address's 28,000 ephemeral ports.
import type { Command, Target } from "./fanout-client.ts";
import { Child, sleep } from "./procs.ts";
import { progress } from "./stack.ts";

export const CLIENT_PROCESSES = 4;
/** Sockets per process, with room to spare under the 20,000 open files a process may have. */
export const MAX_PER_PROCESS = 5_000;
/** Parley connects a few hundred authenticated subscribers a second: 19,800 take about a minute. */
const CONNECT_TIMEOUT_MS = 300_000;
const STEP_TIMEOUT_MS = 30_000;
const EXIT_GRACE_MS = 2_000;

export interface CrowdReport {
  /** Per delivered message, send -> arrival in ms (first arrival per socket and sequence number). */
  readonly latencies: Float64Array;
  readonly received: number;
  readonly duplicates: number;
  /** Frames that were not a fan-out message (should be none). */
  readonly foreign: number;
  /** Sockets the server closed or lost, by reason. */
  readonly dropped: number;
  readonly dropReasons: Record<string, number>;
}

/** One report out of the client processes' own (latencies concatenated, counts summed). */
export function mergeReports(replies: readonly Record<string, unknown>[]): CrowdReport {
  const parts = replies.map((r) => r.latencies as Float64Array);
  const latencies = new Float64Array(parts.reduce((sum, p) => sum + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    latencies.set(part, offset);
    offset += part.length;
  }
  const sum = (key: string) => replies.reduce((total, r) => total + (r[key] as number), 0);
  const dropReasons: Record<string, number> = {};
  for (const r of replies) {
    for (const [reason, count] of Object.entries(r.dropReasons as Record<string, number>))
      dropReasons[reason] = (dropReasons[reason] ?? 0) + count;
  }
  return {
    latencies,
    received: sum("received"),
    duplicates: sum("duplicates"),
    foreign: sum("foreign"),
    dropped: sum("dropped"),
    dropReasons,
  };
}

export class Crowd {
  readonly #children: Child[];

  private constructor(children: Child[]) {
    this.#children = children;
  }

  /** Opens `n` sockets to `target` (for Parley: authenticated and subscribed to `channel`). */
  static async open(target: Target, channel: string, n: number, label: string): Promise<Crowd> {
    if (n > CLIENT_PROCESSES * MAX_PER_PROCESS)
      throw new Error(`${n} sockets are more than ${CLIENT_PROCESSES} processes may hold`);
    const started = performance.now();
    const children = Array.from(
      { length: CLIENT_PROCESSES },
      (_, i) => new Child("fanout-client.ts", `${label} clients #${i + 1}`),
    );
    const crowd = new Crowd(children);
    await Promise.all(children.map((child) => child.next(STEP_TIMEOUT_MS, "the client process to start")));
    const share = Math.ceil(n / CLIENT_PROCESSES);
    await Promise.all(
      children.map((child, i) => {
        const command: Command = {
          cmd: "connect",
          target,
          channel,
          first: i * share,
          count: Math.max(0, Math.min(share, n - i * share)),
          localAddress: `127.0.0.${11 + i}`,
        };
        return child.call(command, CONNECT_TIMEOUT_MS, `${command.count} sockets to connect`);
      }),
    );
    progress(`${label}: ${n} sockets connected in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    return crowd;
  }

  get pids(): number[] {
    return this.#children.map((child) => child.pid);
  }

  /** Starts counting a run of `messages` messages (sequence numbers 0..messages-1). */
  async arm(messages: number): Promise<void> {
    await this.#all({ cmd: "arm", messages });
  }

  async received(): Promise<number> {
    const replies = await this.#all({ cmd: "progress" });
    return replies.reduce((sum, r) => sum + (r.received as number), 0);
  }

  /**
   * Waits until `expected` messages have arrived in all, or until nothing more arrived for
   * `idleMs`, or `maxMs` have passed; returns how many arrived.
   */
  async settle(expected: number, idleMs: number, maxMs: number): Promise<number> {
    const deadline = performance.now() + maxMs;
    let last = await this.received();
    let lastChange = performance.now();
    while (last < expected && performance.now() < deadline && performance.now() - lastChange < idleMs) {
      await sleep(250);
      const now = await this.received();
      if (now !== last) lastChange = performance.now();
      last = now;
    }
    return last;
  }

  async report(): Promise<CrowdReport> {
    return mergeReports(await this.#all({ cmd: "report" }));
  }

  /** Closes every socket (a close handshake each, bounded in time); the processes then end. */
  async close(): Promise<void> {
    try {
      await this.#all({ cmd: "close" });
    } finally {
      await Promise.all(this.#children.map((child) => child.kill(EXIT_GRACE_MS)));
    }
  }

  #all(command: Command): Promise<Record<string, unknown>[]> {
    return Promise.all(this.#children.map((child) => child.call(command, STEP_TIMEOUT_MS, command.cmd)));
  }
}
