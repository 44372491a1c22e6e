// A cluster for end-to-end tests: its own Synapse, a private PostgreSQL and Redis, and Parley nodes
// as child processes (so one can be SIGKILLed) sharing them. Synapse reaches the appservice at one
// URL, a small proxy that sends each request to the nodes in turn and to the next one when a node
// does not answer, as a load balancer in front of the nodes would.
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { createServer, request, type Server } from "node:http";
import { join, resolve } from "node:path";
import { stringify as toYaml } from "yaml";
import { signToken } from "../../src/auth/jwt.ts";
import { type Config, parseConfig } from "../../src/config/load.ts";
import { buildRegistration, registrationYaml } from "../../src/matrix/registration.ts";
import { TEST_LIMITS } from "./limits.ts";
import { logTail, type ParleyProcess, startParleyProcess } from "./parley-process.ts";
import { type PostgresServer, startPostgres } from "./postgres.ts";
import { startRedis, type TestRedis } from "./redis.ts";
import { freePort, type SynapseHandle, startSynapse } from "./synapse.ts";

export interface ClusterNode {
  readonly name: string;
  readonly config: Config;
  readonly gatewayUrl: string;
  readonly logPath: string;
  start(): Promise<void>;
  kill(): Promise<void>;
  stop(): Promise<void>;
  readonly running: boolean;
}

export interface ClusterStack {
  readonly root: string;
  readonly synapse: SynapseHandle;
  readonly postgres: PostgresServer;
  readonly postgresUrl: string;
  readonly redis: TestRedis;
  readonly nodes: readonly ClusterNode[];
  token(name: string, displayName?: string): Promise<string>;
  stop(): Promise<void>;
}

/** Round robin over the nodes' appservice listeners, passing over a node that does not answer. */
export function startBalancer(listenPort: number, targetPorts: readonly number[]): Promise<Server> {
  let next = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const attempt = (tries: number) => {
        const port = targetPorts[next++ % targetPorts.length] as number;
        const upstream = request(
          { host: "127.0.0.1", port, method: req.method, path: req.url, headers: req.headers },
          (response) => {
            res.writeHead(response.statusCode ?? 502, response.headers);
            response.pipe(res);
          },
        );
        upstream.on("error", () => {
          if (tries + 1 < targetPorts.length) attempt(tries + 1);
          else res.writeHead(502).end();
        });
        upstream.end(body);
      };
      attempt(0);
    });
  });
  return new Promise((done) => server.listen(listenPort, "127.0.0.1", () => done(server)));
}

export async function startClusterStack(name: string, nodeCount = 2): Promise<ClusterStack> {
  const root = resolve(".test-data", `${name}-${Date.now()}-${randomBytes(3).toString("hex")}`);
  mkdirSync(root, { recursive: true });
  const [postgres, redis] = await Promise.all([startPostgres(), startRedis()]);
  const postgresUrl = await postgres.createDatabase();
  const homeserverPort = await freePort();
  const balancerPort = await freePort();
  const appservicePorts: number[] = [];
  const gatewayPorts: number[] = [];
  for (let i = 0; i < nodeCount; i++) {
    appservicePorts.push(await freePort());
    gatewayPorts.push(await freePort());
  }
  const jwtSecret = randomBytes(32).toString("hex");
  const registrationPath = join(root, "registration.yaml");
  const rawConfig = (i: number) => ({
    homeserver: { url: `http://127.0.0.1:${homeserverPort}`, server_name: "localhost" },
    appservice: {
      registration: registrationPath,
      port: appservicePorts[i],
      url: `http://127.0.0.1:${balancerPort}`,
    },
    gateway: { port: gatewayPorts[i] },
    auth: { jwt_secret: jwtSecret, guests: true },
    store: { sqlite_path: join(root, "unused.db"), postgres_url: postgresUrl },
    cluster: { redis_url: redis.url, node_id: `node-${i + 1}` },
    limits: TEST_LIMITS,
    log: { level: "info" },
  });
  const configs = Array.from({ length: nodeCount }, (_, i) => parseConfig(rawConfig(i), root));
  writeFileSync(registrationPath, registrationYaml(buildRegistration(configs[0] as Config)));
  const synapse = await startSynapse({
    dataDir: join(root, "synapse"),
    port: homeserverPort,
    registrationPath,
  });
  const balancer = await startBalancer(balancerPort, appservicePorts);

  const nodes = configs.map((config, i): ClusterNode => {
    const nodeName = `node-${i + 1}`;
    const configPath = join(root, `${nodeName}.yaml`);
    writeFileSync(configPath, toYaml(rawConfig(i)));
    const logPath = join(root, `${nodeName}.log`);
    const gatewayUrl = `ws://127.0.0.1:${gatewayPorts[i]}/chat`;
    let process: ParleyProcess | undefined;
    return {
      name: nodeName,
      config,
      gatewayUrl,
      logPath,
      async start() {
        process = await startParleyProcess(configPath, logPath, gatewayUrl);
      },
      async kill() {
        await process?.kill();
        process = undefined;
      },
      async stop() {
        await process?.stop();
        process = undefined;
      },
      get running() {
        return process !== undefined;
      },
    };
  });
  // One after the other: the first creates the schema (the others would wait on its lock).
  for (const node of nodes) await node.start();

  return {
    root,
    synapse,
    postgres,
    postgresUrl,
    redis,
    nodes,
    token: (user, displayName) =>
      signToken(jwtSecret, { sub: user, ...(displayName ? { name: displayName } : {}) }),
    async stop() {
      for (const node of nodes) await node.stop();
      balancer.closeAllConnections();
      await new Promise<void>((done) => balancer.close(() => done()));
      await synapse.stop();
      await redis.stop();
      await postgres.stop();
      const bugs = nodes.flatMap((node) =>
        logTail(node.logPath, Number.MAX_SAFE_INTEGER)
          .split("\n")
          .filter((line) => line.includes("(a bug)")),
      );
      if (bugs.length > 0) throw new Error(`Parley logged bugs:\n${bugs.join("\n")}`);
    },
  };
}
