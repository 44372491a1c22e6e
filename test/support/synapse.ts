// A real Synapse for end-to-end tests: installed, configured and run through scripts/synapse.sh.
// Each handle owns one Synapse process (its own process group); stop() ends it, and any handle
// still running when the test process exits is killed so no homeserver outlives its test run.

import type { ChildProcess } from "node:child_process";
import { execFile, spawn } from "node:child_process";
import { closeSync, openSync, readSync, statSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { createServer } from "node:net";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const SCRIPT = join(REPO_ROOT, "scripts", "synapse.sh");
const SERVER_NAME = "localhost";
const HEALTH_TIMEOUT_MS = 90_000;
const STOP_GRACE_MS = 15_000;

export type SynapseOptions = {
  dataDir: string;
  port: number;
  registrationPath: string;
};

export type SynapseHandle = {
  url: string;
  serverName: string;
  /** Pid of the running Synapse (changes on restart). */
  pid: number;
  stop(): Promise<void>;
  restart(): Promise<void>;
};

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const child of running) signal(child, "SIGKILL");
  });
}

/** Signals the child's process group (it was spawned detached), falling back to the pid alone. */
function signal(child: ChildProcess, sig: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, sig);
  } catch {
    try {
      process.kill(child.pid, sig);
    } catch {
      // already gone
    }
  }
}

function runScript(args: string[]): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    execFile(
      "bash",
      [SCRIPT, ...args],
      { cwd: REPO_ROOT, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) {
          const detail = `${stdout}${stderr}`.trim() || err.message;
          reject(
            new Error(`scripts/synapse.sh ${args.join(" ")} failed (exit ${err.code ?? "?"}): ${detail}`),
          );
        } else {
          resolvePromise();
        }
      },
    );
  });
}

function tail(path: string, lines = 40): string {
  try {
    const size = statSync(path).size;
    const fd = openSync(path, "r");
    try {
      const length = Math.min(size, 16 * 1024);
      const buf = Buffer.alloc(length);
      readSync(fd, buf, 0, length, size - length);
      return buf.toString("utf8").split("\n").slice(-lines).join("\n");
    } finally {
      closeSync(fd);
    }
  } catch {
    return `(no ${path})`;
  }
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolvePromise) => child.once("exit", () => resolvePromise()));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolvePromise) => setTimeout(resolvePromise, ms));
}

async function waitHealthy(url: string, child: ChildProcess, dataDir: string): Promise<void> {
  const deadline = Date.now() + HEALTH_TIMEOUT_MS;
  let lastError = "";
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `Synapse exited during start-up (code ${child.exitCode}, signal ${child.signalCode}).\n` +
          `--- ${dataDir}/stdout.log ---\n${tail(join(dataDir, "stdout.log"))}\n` +
          `--- ${dataDir}/homeserver.log ---\n${tail(join(dataDir, "homeserver.log"))}`,
      );
    }
    try {
      const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2_000) });
      await res.body?.cancel();
      if (res.status === 200) return;
      lastError = `HTTP ${res.status}`;
    } catch (err) {
      lastError = err instanceof Error ? err.message : String(err);
    }
    await sleep(200);
  }
  throw new Error(
    `Synapse at ${url} was not healthy after ${HEALTH_TIMEOUT_MS / 1000} s (last: ${lastError}).\n` +
      `--- ${dataDir}/homeserver.log ---\n${tail(join(dataDir, "homeserver.log"))}`,
  );
}

function launch(dataDir: string): ChildProcess {
  const out = openSync(join(dataDir, "stdout.log"), "a");
  try {
    const child = spawn("bash", [SCRIPT, "start", dataDir], {
      cwd: REPO_ROOT,
      detached: true,
      stdio: ["ignore", out, out],
    });
    child.on("error", () => {
      // surfaced by waitHealthy through exitCode / the health timeout
    });
    child.unref();
    running.add(child);
    child.once("exit", () => running.delete(child));
    return child;
  } finally {
    closeSync(out);
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  signal(child, "SIGTERM");
  const done = exited(child);
  let timer: NodeJS.Timeout | undefined;
  const grace = new Promise<boolean>((resolvePromise) => {
    timer = setTimeout(() => resolvePromise(true), STOP_GRACE_MS);
  });
  const timedOut = await Promise.race([done.then(() => false), grace]);
  clearTimeout(timer);
  if (timedOut) {
    signal(child, "SIGKILL");
    await done;
  }
}

export async function startSynapse(opts: SynapseOptions): Promise<SynapseHandle> {
  const dataDir = resolve(opts.dataDir);
  const registrationPath = resolve(opts.registrationPath);
  const url = `http://127.0.0.1:${opts.port}`;
  await mkdir(dataDir, { recursive: true });
  await runScript(["install"]);

  const boot = async (): Promise<ChildProcess> => {
    await runScript(["configure", dataDir, String(opts.port), registrationPath]);
    installExitHook();
    const child = launch(dataDir);
    try {
      await waitHealthy(url, child, dataDir);
    } catch (err) {
      await stopChild(child);
      throw err;
    }
    return child;
  };

  let child = await boot();
  return {
    url,
    serverName: SERVER_NAME,
    get pid(): number {
      return child.pid ?? -1;
    },
    async stop(): Promise<void> {
      await stopChild(child);
    },
    async restart(): Promise<void> {
      await stopChild(child);
      child = await boot();
    },
  };
}

type RegisterResponse = {
  user_id?: string;
  access_token?: string;
  session?: string;
  errcode?: string;
  error?: string;
};

/** Registers an ordinary user the way Element does on an open-registration server. */
export async function registerMatrixUser(
  hsUrl: string,
  username: string,
  password: string,
): Promise<{ userId: string; accessToken: string }> {
  const endpoint = `${hsUrl.replace(/\/$/, "")}/_matrix/client/v3/register`;
  const post = async (auth: Record<string, string>): Promise<{ status: number; body: RegisterResponse }> => {
    const res = await fetch(endpoint, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username, password, auth }),
    });
    return { status: res.status, body: (await res.json()) as RegisterResponse };
  };

  let { status, body } = await post({ type: "m.login.dummy" });
  if (status === 401 && body.session !== undefined) {
    ({ status, body } = await post({ type: "m.login.dummy", session: body.session }));
  }
  if (status !== 200 || body.user_id === undefined || body.access_token === undefined) {
    throw new Error(
      `registering ${username} on ${hsUrl} failed: HTTP ${status} ${body.errcode ?? ""} ${body.error ?? ""}`.trim(),
    );
  }
  return { userId: body.user_id, accessToken: body.access_token };
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      server.close((err) => (err ? reject(err) : resolvePromise(port)));
    });
  });
}
