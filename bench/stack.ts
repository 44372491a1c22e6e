// The benchmark's stack: one Synapse and one Parley (a child process) in a scratch dir for the whole
// run, the cleanups that stop them, and small helpers every part uses (native logins, timeouts).
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify as toYaml } from "yaml";
import { signToken } from "../src/auth/jwt.ts";
import { parseConfig } from "../src/config/load.ts";
import { buildRegistration, registrationYaml } from "../src/matrix/registration.ts";
import { TestClient } from "../test/support/client.ts";
import { TEST_LIMITS } from "../test/support/limits.ts";
import { logTail, type ParleyProcess, startParleyProcess } from "../test/support/parley-process.ts";
import type { SynapseHandle } from "../test/support/synapse.ts";
import { freePort, startSynapse } from "../test/support/synapse.ts";

export const SYNAPSE_VERSION = "1.163.2";
const CONNECT_TIMEOUT_MS = 10_000;

/** Cleanups run in reverse order of registration, each at most once, errors reported not thrown. */
const cleanups: Array<{ name: string; run: () => Promise<void> | void }> = [];

export function onCleanup(name: string, run: () => Promise<void> | void): void {
  cleanups.push({ name, run });
}

/** Runs every cleanup but the first `keep` registered ones (which stay registered). */
export async function cleanUp(keep = 0): Promise<void> {
  while (cleanups.length > keep) {
    const step = cleanups.pop();
    try {
      await step?.run();
    } catch (error) {
      process.stderr.write(`bench: cleanup "${step?.name}" failed: ${(error as Error).message}\n`);
    }
  }
}

export function progress(message: string): void {
  process.stderr.write(`bench: ${message}\n`);
}

/** `promise`, or a rejection naming `what` once `ms` have passed. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

export interface Stack {
  readonly hsUrl: string;
  readonly gatewayUrl: string;
  readonly jwtSecret: string;
  readonly sqlitePath: string;
  /** The running Parley child process (it changes when Parley is restarted). */
  parleyPid(): number;
  /** The Synapse process, the leader of its own process group (for SIGSTOP / SIGCONT). */
  readonly synapsePid: number;
  /** Connects and authenticates a native user (closed at clean-up); bounded by a timeout. */
  login(sub: string, name: string): Promise<TestClient>;
  /** Stops Parley with SIGTERM, runs `whileDown`, starts Parley again; resolves once it accepts. */
  withParleyStopped(whileDown: () => void | Promise<void>): Promise<void>;
}

/** Opens a WebSocket and authenticates with `token`, all within CONNECT_TIMEOUT_MS. */
export function connectNative(gatewayUrl: string, token: string): Promise<TestClient> {
  return withTimeout(TestClient.login(gatewayUrl, { token }), CONNECT_TIMEOUT_MS, "a native login");
}

export async function startStack(scratch: string): Promise<Stack> {
  const [hsPort, asPort, gwPort] = [await freePort(), await freePort(), await freePort()];
  const hsUrl = `http://127.0.0.1:${hsPort}`;
  const jwtSecret = randomBytes(32).toString("hex");
  const raw = {
    homeserver: { url: hsUrl, server_name: "localhost" },
    appservice: { registration: "./registration.yaml", port: asPort, url: `http://127.0.0.1:${asPort}` },
    // The fan-out and memory parts hold up to ~20,000 sockets from the loopback addresses, and every
    // subscriber is its own user: the per-address and per-user caps would refuse them.
    gateway: {
      bind: "127.0.0.1",
      port: gwPort,
      path: "/chat",
      max_connections_per_address: 100_000,
      max_connections_per_user: 100_000,
    },
    auth: { jwt_secret: jwtSecret, guests: false },
    store: { sqlite_path: "./parley.db" },
    // Benchmarks play thousands of users from one address: the per-user and per-address limits
    // that protect a real deployment would measure themselves, not Parley.
    limits: TEST_LIMITS,
    log: { level: "warn" },
  };
  const configPath = join(scratch, "parley.yaml");
  writeFileSync(configPath, toYaml(raw), { mode: 0o600 });
  const config = parseConfig(raw, scratch);
  writeFileSync(config.appservice.registrationPath, registrationYaml(buildRegistration(config)), {
    mode: 0o600,
  });

  progress(`starting Synapse on ${hsUrl}`);
  const synapse: SynapseHandle = await startSynapse({
    dataDir: join(scratch, "synapse"),
    port: hsPort,
    registrationPath: config.appservice.registrationPath,
  });
  onCleanup("stop Synapse", () => synapse.stop());

  const gatewayUrl = `ws://127.0.0.1:${gwPort}/chat`;
  const logPath = join(scratch, "parley.log");
  progress(`starting Parley (gateway ${gatewayUrl})`);
  let parley: ParleyProcess | undefined = await startParleyProcess(configPath, logPath, gatewayUrl);
  onCleanup("stop Parley", async () => {
    await parley?.stop();
    parley = undefined;
    const log = logTail(logPath).trim();
    if (log.split("\n").length > 1) process.stderr.write(`bench: Parley's log (level warn):\n${log}\n`);
  });

  return {
    hsUrl,
    gatewayUrl,
    jwtSecret,
    sqlitePath: config.store.sqlitePath,
    parleyPid() {
      if (!parley) throw new Error("Parley is not running");
      return parley.pid;
    },
    get synapsePid() {
      return synapse.pid;
    },
    async login(sub, name) {
      const client = await connectNative(gatewayUrl, await signToken(jwtSecret, { sub, name }));
      onCleanup(`close ${sub}`, () => client.close());
      return client;
    },
    async withParleyStopped(whileDown) {
      progress("stopping Parley (SIGTERM)");
      await parley?.stop();
      parley = undefined;
      await whileDown();
      progress("starting Parley again");
      parley = await startParleyProcess(configPath, logPath, gatewayUrl);
    },
  };
}

/** The user id of an authenticated client, from its `authenticated` frame. */
export function userIdOf(client: TestClient): string {
  const frame = client.received.find((f) => f[0] === "authenticated");
  const id = (frame?.[1] as { user?: { id?: unknown } } | undefined)?.user?.id;
  if (typeof id !== "string") throw new Error("no user id in the authenticated frame");
  return id;
}
