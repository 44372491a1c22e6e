// Child processes of the benchmark (the comparison servers and the subscriber crowds): forked with
// an IPC channel, asked one thing at a time, killed at clean-up whatever happened. Plus reading a
// process's resident memory, which is how every memory figure of the benchmark is taken.
import { type ChildProcess, fork } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { onCleanup, withTimeout } from "./stack.ts";

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));

/** What a child answers: `ok: false` carries its error message. */
export type Reply = { readonly ok: true; readonly [key: string]: unknown } | { ok: false; error: string };

/** VmRSS of a process, in KiB, from /proc/<pid>/status. */
export function rssKiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1];
  if (kib === undefined) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(kib);
}

/** How many files (sockets included) a process has open. */
export const openFiles = (pid: number) => readdirSync(`/proc/${pid}/fd`).length;

/** CPU time (user + system) a process has used so far, in seconds, from /proc/<pid>/stat. */
export function cpuSeconds(pid: number): number {
  // The command name (field 2) may hold spaces; utime and stime are fields 14 and 15.
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}
/** USER_HZ: 100 on every Linux this runs on. */
const CLOCK_TICKS = 100;

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class Child {
  readonly #child: ChildProcess;
  readonly #label: string;
  readonly #inbox: Reply[] = [];
  #waiting: ((reply: Reply) => void) | undefined;
  #exit: string | undefined;

  /** Forks bench/<script> (TypeScript, run by Node directly); killed at clean-up if still running. */
  constructor(script: string, label: string, args: string[] = []) {
    this.#label = label;
    // "advanced" serialization carries typed arrays (the latency samples) without JSON.
    this.#child = fork(join(BENCH_DIR, script), args, {
      serialization: "advanced",
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    this.#child.on("message", (message: Reply) => {
      const waiting = this.#waiting;
      this.#waiting = undefined;
      if (waiting) waiting(message);
      else this.#inbox.push(message);
    });
    this.#child.on("exit", (code, signal) => {
      this.#exit = `${label} exited (code ${code}, signal ${signal})`;
      this.#waiting?.({ ok: false, error: this.#exit });
      this.#waiting = undefined;
    });
    this.#child.on("error", (error) => {
      this.#waiting?.({ ok: false, error: `${label}: ${error.message}` });
      this.#waiting = undefined;
    });
    onCleanup(`kill ${label}`, () => this.kill());
  }

  get pid(): number {
    if (this.#child.pid === undefined) throw new Error(`${this.#label} has no pid (did not start)`);
    return this.#child.pid;
  }

  /** The child's next message; throws its error, or on exit or timeout. */
  async next(timeoutMs: number, what: string): Promise<Record<string, unknown>> {
    const queued = this.#inbox.shift();
    const reply =
      queued ??
      (this.#exit !== undefined
        ? { ok: false as const, error: this.#exit }
        : await withTimeout(
            new Promise<Reply>((resolve) => {
              this.#waiting = resolve;
            }),
            timeoutMs,
            `${what} (${this.#label})`,
          ).finally(() => {
            this.#waiting = undefined;
          }));
    if (!reply.ok) throw new Error(`${this.#label}: ${reply.error}`);
    return reply;
  }

  /** Sends a command and returns the child's reply to it. */
  call(command: Record<string, unknown>, timeoutMs: number, what: string): Promise<Record<string, unknown>> {
    if (this.#exit === undefined) this.#child.send(command);
    return this.next(timeoutMs, what);
  }

  /**
   * Waits up to `graceMs` for the child to end by itself, then SIGKILLs it (nothing of a child
   * needs a clean shutdown); resolves once it is gone.
   */
  async kill(graceMs = 0): Promise<void> {
    if (this.#exit !== undefined || this.#child.pid === undefined) return;
    const gone = new Promise<void>((resolve) => this.#child.once("exit", () => resolve()));
    if (graceMs > 0) await Promise.race([gone, sleep(graceMs)]);
    if (this.#exit === undefined) this.#child.kill("SIGKILL");
    await gone;
  }
}

/** A comparison server (bench/servers/*.ts) in its own process, listening on 127.0.0.1. */
export async function startServer(script: string, label: string): Promise<{ child: Child; url: string }> {
  const child = new Child(script, label);
  const ready = await child.next(10_000, "the server to listen");
  const port = ready.port as number;
  return { child, url: `${ready.scheme as string}://127.0.0.1:${port}${ready.path as string}` };
}
