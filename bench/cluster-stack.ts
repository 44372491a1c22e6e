// The cluster benchmark's stack, started the way test/support/cluster-stack.ts starts the
// end-to-end cluster: its own Synapse, a private PostgreSQL (test/support/postgres.ts) and Redis
// (test/support/redis.ts), and two Parley nodes as child processes sharing them, behind one
// appservice URL (a small round-robin proxy, as a load balancer would be). The differences are the
// benchmark's: the per-address and per-user connection caps are raised (thousands of subscribers
// come from four loopback addresses), the log level is warn, every node can be restarted (so each
// fan-out measurement starts from fresh processes), and the pids of everything are at hand for
// CPU and memory readings.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { stringify as toYaml } from "yaml";
import { signToken } from "../src/auth/jwt.ts";
import { type Config, parseConfig } from "../src/config/load.ts";
import { buildRegistration, registrationYaml } from "../src/matrix/registration.ts";
import { startBalancer } from "../test/support/cluster-stack.ts";
import { TEST_LIMITS } from "../test/support/limits.ts";
import { logTail, type ParleyProcess, startParleyProcess } from "../test/support/parley-process.ts";
import { type PostgresServer, startPostgres } from "../test/support/postgres.ts";
import { startRedis, type TestRedis } from "../test/support/redis.ts";
import { freePort, type SynapseHandle, startSynapse } from "../test/support/synapse.ts";
import { connectNative, onCleanup, progress } from "./stack.ts";

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const NODE_COUNT = 2;

export interface BenchNode {
  readonly name: string;
  readonly gatewayUrl: string;
  readonly logPath: string;
  pid(): number;
  /** SIGTERM, then started again; resolves once its gateway accepts. */
  restart(): Promise<void>;
}

export interface ClusterBenchStack {
  readonly root: string;
  readonly hsUrl: string;
  readonly jwtSecret: string;
  readonly nodes: readonly BenchNode[];
  readonly redis: TestRedis;
  readonly postgresUrl: string;
  readonly synapsePid: number;
  readonly redisPid: number;
  /** The postmaster: its backends are its children (see treeCpuSeconds). */
  readonly postgresPid: number;
  /** Connects and authenticates a native user on node `node` (closed at clean-up). */
  login(node: number, sub: string, name: string): ReturnType<typeof connectNative>;
  /** Lines the nodes logged as bugs (src/main.ts's last line of defence): should be none. */
  bugs(): string[];
  /** The nodes' WARN and ERROR lines so far, ids and numbers masked, counted ("node-1: ..."). */
  logged(): Record<string, number>;
  /** Restarts every node, one after the other. */
  restartNodes(): Promise<void>;
  /** Stops the nodes, Synapse, Redis and PostgreSQL; at most once. */
  stop(): Promise<void>;
}

/** redis-server is a test tool (scripts/test-tools.sh); `make bench` may run before `make test`. */
function ensureRedisServer(): void {
  try {
    execFileSync("sh", ["-c", "command -v redis-server"], { stdio: "ignore" });
  } catch {
    progress("redis-server is missing: installing it (scripts/test-tools.sh install redis-server)");
    execFileSync("bash", [join(REPO_ROOT, "scripts", "test-tools.sh"), "install", "redis-server"], {
      stdio: ["ignore", "inherit", "inherit"],
    });
  }
}

/** The one process whose /proc comm is `comm` and whose command line satisfies `match`. */
function findProcess(comm: string, match: (cmdline: string) => boolean, what: string): number {
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, "utf8").trim() !== comm) continue;
      if (match(readFileSync(`/proc/${entry}/cmdline`, "utf8").replaceAll("\0", " "))) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  throw new Error(`could not find ${what} in /proc`);
}

export async function startClusterBench(scratch: string): Promise<ClusterBenchStack> {
  const root = join(scratch, "cluster");
  mkdirSync(root, { recursive: true });
  ensureRedisServer();
  progress("cluster: starting a private PostgreSQL and Redis");
  const [postgres, redis]: [PostgresServer, TestRedis] = await Promise.all([startPostgres(), startRedis()]);
  onCleanup("stop the cluster's Redis", () => redis.stop());
  onCleanup("stop the cluster's PostgreSQL", () => postgres.stop());
  const postgresUrl = await postgres.createDatabase();
  const postgresPort = new URL(postgresUrl).port;
  const postgresPid = findProcess(
    "postgres",
    (cmd) => cmd.includes(`port=${postgresPort} `),
    "the postmaster",
  );
  const redisPid = findProcess(
    "redis-server",
    (cmd) => cmd.includes(`:${redis.port}`) || cmd.includes(`--port ${redis.port} `),
    "redis-server",
  );

  const homeserverPort = await freePort();
  const balancerPort = await freePort();
  const appservicePorts: number[] = [];
  const gatewayPorts: number[] = [];
  for (let i = 0; i < NODE_COUNT; i++) {
    appservicePorts.push(await freePort());
    gatewayPorts.push(await freePort());
  }
  const jwtSecret = randomBytes(32).toString("hex");
  const registrationPath = join(root, "registration.yaml");
  const hsUrl = `http://127.0.0.1:${homeserverPort}`;
  const rawConfig = (i: number) => ({
    homeserver: { url: hsUrl, server_name: "localhost" },
    appservice: {
      registration: registrationPath,
      port: appservicePorts[i],
      url: `http://127.0.0.1:${balancerPort}`,
    },
    gateway: {
      bind: "127.0.0.1",
      port: gatewayPorts[i],
      path: "/chat",
      max_connections_per_address: 100_000,
      max_connections_per_user: 100_000,
    },
    auth: { jwt_secret: jwtSecret, guests: false },
    store: { sqlite_path: join(root, "unused.db"), postgres_url: postgresUrl },
    cluster: { redis_url: redis.url, node_id: `node-${i + 1}` },
    limits: TEST_LIMITS,
    log: { level: "warn" },
  });
  const configs = Array.from({ length: NODE_COUNT }, (_, i) => parseConfig(rawConfig(i), root));
  writeFileSync(registrationPath, registrationYaml(buildRegistration(configs[0] as Config)), { mode: 0o600 });

  progress(`cluster: starting Synapse on ${hsUrl}`);
  const synapse: SynapseHandle = await startSynapse({
    dataDir: join(root, "synapse"),
    port: homeserverPort,
    registrationPath,
  });
  onCleanup("stop the cluster's Synapse", () => synapse.stop());
  const balancer = await startBalancer(balancerPort, appservicePorts);
  onCleanup("stop the cluster's appservice proxy", async () => {
    balancer.closeAllConnections();
    await new Promise<void>((done) => balancer.close(() => done()));
  });

  const nodes = configs.map((_, i) => {
    const name = `node-${i + 1}`;
    const configPath = join(root, `${name}.yaml`);
    writeFileSync(configPath, toYaml(rawConfig(i)), { mode: 0o600 });
    const logPath = join(root, `${name}.log`);
    const gatewayUrl = `ws://127.0.0.1:${gatewayPorts[i]}/chat`;
    let child: ParleyProcess | undefined;
    const start = async () => {
      child = await startParleyProcess(configPath, logPath, gatewayUrl);
    };
    const stop = async () => {
      await child?.stop();
      child = undefined;
    };
    return {
      name,
      gatewayUrl,
      logPath,
      pid() {
        if (!child) throw new Error(`${name} is not running`);
        return child.pid;
      },
      start,
      stop,
      async restart() {
        await stop();
        await start();
      },
    };
  });
  onCleanup("stop the cluster's Parley nodes", async () => {
    for (const node of nodes) await node.stop();
    for (const node of nodes) {
      const log = logTail(node.logPath).trim();
      if (log.split("\n").length > 1)
        process.stderr.write(`bench: ${node.name}'s log (level warn, last lines):\n${log}\n`);
    }
  });
  // One after the other: the first creates the schema (the others would wait on its lock).
  progress(`cluster: starting ${NODE_COUNT} Parley nodes (${nodes.map((n) => n.gatewayUrl).join(", ")})`);
  for (const node of nodes) await node.start();

  let stopped = false;
  return {
    root,
    hsUrl,
    jwtSecret,
    nodes,
    redis,
    postgresUrl,
    get synapsePid() {
      return synapse.pid;
    },
    redisPid,
    postgresPid,
    async login(node, sub, name) {
      const target = nodes[node];
      if (!target) throw new Error(`no node ${node}`);
      const client = await connectNative(target.gatewayUrl, await signToken(jwtSecret, { sub, name }));
      onCleanup(`close ${sub}`, () => client.close());
      return client;
    },
    bugs: () =>
      nodes.flatMap((node) =>
        logTail(node.logPath, Number.MAX_SAFE_INTEGER)
          .split("\n")
          .filter((line) => line.includes("(a bug)")),
      ),
    logged() {
      const counts: Record<string, number> = {};
      for (const node of nodes) {
        for (const line of logTail(node.logPath, Number.MAX_SAFE_INTEGER).split("\n")) {
          const found = /^(WARN|ERROR) \S+ (\[\w+\]) (.*)$/.exec(line);
          if (!found) continue;
          const message = (found[3] ?? "")
            .replace(/\$[\w-]+/g, "$…")
            .replace(/![\w-]+(:[\w.]+)?/g, "!…")
            .replace(/\bbench_\w+/g, "<channel>")
            .replace(/\d+/g, "N");
          const key = `${node.name}: ${found[1]} ${found[2]} ${message}`;
          counts[key] = (counts[key] ?? 0) + 1;
        }
      }
      return counts;
    },
    async restartNodes() {
      progress("cluster: restarting the nodes");
      for (const node of nodes) await node.stop();
      for (const node of nodes) await node.start();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      for (const node of nodes) await node.stop();
      balancer.closeAllConnections();
      await new Promise<void>((done) => balancer.close(() => done()));
      await synapse.stop();
      await redis.stop();
      await postgres.stop();
    },
  };
}

/** utime, stime, cutime, cstime of a process, in clock ticks, from /proc/<pid>/stat. */
function times(pid: number): number[] {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return [fields[11], fields[12], fields[13], fields[14]].map(Number);
}

/**
 * CPU seconds used so far by a process and its children (PostgreSQL: the postmaster and its
 * backends), including children that have ended and been waited for.
 */
export function treeCpuSeconds(pid: number): number {
  let ticks = times(pid).reduce((sum, x) => sum + x, 0);
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === pid) ticks += times(Number(entry)).reduce((sum, x) => sum + x, 0);
    } catch {
      // gone meanwhile
    }
  }
  return ticks / 100; // USER_HZ
}

/**
 * CPU seconds the whole machine has been busy so far (all cores, from /proc/stat): with the
 * processes a measurement accounts for, it shows whether anything else ran meanwhile.
 */
export function machineBusySeconds(): number {
  const line = readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "";
  const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  return ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) / 100;
}
