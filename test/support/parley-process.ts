// Parley as a child process (`node src/main.ts start --config FILE`), exactly as operators run it:
// its own event loop for benchmarks, and a real process to SIGKILL in fault tests. Its output goes
// to a log file.
import type { ChildProcess } from "node:child_process";
import { spawn } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import WebSocket from "ws";

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const READY_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 15_000;

export interface ParleyProcess {
  readonly pid: number;
  /** Resolves when the process has exited, for whatever reason. */
  readonly exited: Promise<void>;
  /** Its exit code once it has exited (null while it runs, or when a signal ended it). */
  exitCode(): number | null;
  /**
   * Lines the process logged as bugs: an unhandled rejection or an uncaught exception reached the
   * last line of defence (src/main.ts). Tests treat any as a failure.
   */
  bugs(): string[];
  /** SIGTERM, then SIGKILL after a grace period. */
  stop(): Promise<void>;
  /** SIGKILL at once: a crash, no clean shutdown. */
  kill(): Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

const hasExited = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null;

function exited(child: ChildProcess): Promise<void> {
  if (hasExited(child)) return Promise.resolve();
  return new Promise((r) => child.once("exit", () => r()));
}

export function logTail(path: string, lines = 30): string {
  try {
    return readFileSync(path, "utf8").split("\n").slice(-lines).join("\n");
  } catch {
    return `(no ${path})`;
  }
}

/** Resolves once a WebSocket to `url` opens (and closes it again); rejects on any failure. */
function probe(url: string): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const ws = new WebSocket(url, { handshakeTimeout: 2_000 });
    ws.once("open", () => {
      ws.close();
      resolvePromise();
    });
    ws.once("error", reject);
  });
}

export async function startParleyProcess(
  configPath: string,
  logPath: string,
  gatewayUrl: string,
): Promise<ParleyProcess> {
  const out = openSync(logPath, "a");
  let child: ChildProcess;
  try {
    child = spawn(
      process.execPath,
      ["--disable-warning=DEP0060", "src/main.ts", "start", "--config", configPath],
      { cwd: REPO_ROOT, stdio: ["ignore", out, out] },
    );
  } finally {
    closeSync(out);
  }
  child.on("error", () => {
    // a failed spawn shows up as an exit, caught by the readiness loop below
  });
  const killOnExit = () => {
    if (!hasExited(child)) child.kill("SIGKILL");
  };
  process.on("exit", killOnExit);

  const stop = async (): Promise<void> => {
    if (!hasExited(child)) {
      child.kill("SIGTERM");
      const timedOut = await Promise.race([
        exited(child).then(() => false),
        sleep(STOP_GRACE_MS).then(() => true),
      ]);
      if (timedOut) {
        process.stderr.write(`Parley did not exit within ${STOP_GRACE_MS / 1000} s of SIGTERM; killing it\n`);
        child.kill("SIGKILL");
        await exited(child);
      }
    }
    process.off("exit", killOnExit);
  };

  const deadline = Date.now() + READY_TIMEOUT_MS;
  let lastError = "";
  while (Date.now() < deadline) {
    if (hasExited(child)) {
      throw new Error(
        `Parley exited during start-up (code ${child.exitCode}, signal ${child.signalCode}).\n` +
          `--- ${logPath} ---\n${logTail(logPath)}`,
      );
    }
    try {
      await probe(gatewayUrl);
      const kill = async () => {
        if (!hasExited(child)) child.kill("SIGKILL");
        await exited(child);
        process.off("exit", killOnExit);
      };
      const bugs = () =>
        logTail(logPath, Number.MAX_SAFE_INTEGER)
          .split("\n")
          .filter((line) => line.includes("(a bug)"));
      return {
        pid: child.pid ?? -1,
        exited: exited(child),
        exitCode: () => child.exitCode,
        bugs,
        stop,
        kill,
      };
    } catch (error) {
      lastError = (error as Error).message;
    }
    await sleep(200);
  }
  await stop();
  throw new Error(
    `Parley's gateway ${gatewayUrl} did not accept a WebSocket within ${READY_TIMEOUT_MS / 1000} s ` +
      `(last: ${lastError}).\n--- ${logPath} ---\n${logTail(logPath)}`,
  );
}
