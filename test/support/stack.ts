// An isolated stack for fault tests: its own Synapse, Parley as a child process (so it can be
// SIGKILLed), and optionally a proxy between Synapse and Parley's appservice port that can lose
// transactions the way Synapse sometimes does (answering 200 without delivering).
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { createServer, request, type Server } from "node:http";
import { join, resolve } from "node:path";
import { stringify as toYaml } from "yaml";
import { signToken } from "../../src/auth/jwt.ts";
import { type Config, parseConfig } from "../../src/config/load.ts";
import { buildRegistration, type Registration, registrationYaml } from "../../src/matrix/registration.ts";
import { TEST_LIMITS } from "./limits.ts";
import { logTail, type ParleyProcess, startParleyProcess } from "./parley-process.ts";
import { freePort, type SynapseHandle, startSynapse } from "./synapse.ts";

export interface Stack {
  readonly root: string;
  readonly config: Config;
  readonly registration: Registration;
  readonly synapse: SynapseHandle;
  readonly gatewayUrl: string;
  /** While true, the proxy answers Synapse's transactions with 200 and drops them. */
  dropTransactions: boolean;
  startParley(): Promise<void>;
  killParley(): Promise<void>;
  /** SIGTERM (SIGKILL after a grace period); resolves with its exit code. */
  stopParley(): Promise<number | null>;
  token(name: string, displayName?: string): Promise<string>;
  stop(): Promise<void>;
}

function startProxy(
  listenPort: number,
  targetPort: number,
  stack: { dropTransactions: boolean },
): Promise<Server> {
  const server = createServer((req, res) => {
    if (stack.dropTransactions && req.method === "PUT" && req.url?.includes("/transactions/")) {
      req.resume();
      req.on("end", () => res.writeHead(200, { "content-type": "application/json" }).end("{}"));
      return;
    }
    const upstream = request(
      { host: "127.0.0.1", port: targetPort, method: req.method, path: req.url, headers: req.headers },
      (response) => {
        res.writeHead(response.statusCode ?? 502, response.headers);
        response.pipe(res);
      },
    );
    upstream.on("error", () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  return new Promise((resolvePromise) =>
    server.listen(listenPort, "127.0.0.1", () => resolvePromise(server)),
  );
}

export async function startStack(
  name: string,
  options: { proxy?: boolean; config?: Record<string, Record<string, unknown>> } = {},
): Promise<Stack> {
  const root = resolve(".test-data", `${name}-${Date.now()}-${randomBytes(3).toString("hex")}`);
  mkdirSync(root, { recursive: true });
  const [homeserverPort, appservicePort, gatewayPort, proxyPort] = await Promise.all([
    freePort(),
    freePort(),
    freePort(),
    freePort(),
  ]);
  const jwtSecret = randomBytes(32).toString("hex");
  const base: Record<string, Record<string, unknown>> = {
    homeserver: { url: `http://127.0.0.1:${homeserverPort}`, server_name: "localhost" },
    appservice: {
      registration: join(root, "registration.yaml"),
      port: appservicePort,
      url: `http://127.0.0.1:${options.proxy ? proxyPort : appservicePort}`,
    },
    gateway: { port: gatewayPort },
    auth: { jwt_secret: jwtSecret, guests: true },
    store: { sqlite_path: join(root, "parley.db") },
    limits: TEST_LIMITS,
    log: { level: "info" },
  };
  // Extra keys, section by section (e.g. { gateway: { drain_timeout_ms: 3000 } }).
  const raw = Object.fromEntries(
    [...new Set([...Object.keys(base), ...Object.keys(options.config ?? {})])].map((section) => [
      section,
      { ...base[section], ...options.config?.[section] },
    ]),
  );
  const configPath = join(root, "parley.yaml");
  writeFileSync(configPath, toYaml(raw));
  const config = parseConfig(raw, root);
  const registration = buildRegistration(config);
  writeFileSync(config.appservice.registrationPath, registrationYaml(registration));
  const synapse = await startSynapse({
    dataDir: join(root, "synapse"),
    port: homeserverPort,
    registrationPath: config.appservice.registrationPath,
  });
  const state = { dropTransactions: false };
  const proxy = options.proxy ? await startProxy(proxyPort, appservicePort, state) : undefined;
  let parley: ParleyProcess | undefined;
  const gatewayUrl = `ws://127.0.0.1:${gatewayPort}/chat`;

  const stack: Stack = {
    root,
    config,
    registration,
    synapse,
    gatewayUrl,
    get dropTransactions() {
      return state.dropTransactions;
    },
    set dropTransactions(value: boolean) {
      state.dropTransactions = value;
    },
    async startParley() {
      parley = await startParleyProcess(configPath, join(root, "parley.log"), gatewayUrl);
    },
    async killParley() {
      await parley?.kill();
      parley = undefined;
    },
    async stopParley() {
      const running = parley;
      parley = undefined;
      await running?.stop();
      return running ? running.exitCode() : null;
    },
    token: (user, displayName) =>
      signToken(jwtSecret, { sub: user, ...(displayName ? { name: displayName } : {}) }),
    async stop() {
      await parley?.stop();
      proxy?.closeAllConnections();
      await new Promise<void>((done) => (proxy ? proxy.close(() => done()) : done()));
      await synapse.stop();
      // Every Parley this stack ran logged into one file: a bug line in any of them fails the test.
      const bugs = logTail(join(root, "parley.log"), Number.MAX_SAFE_INTEGER)
        .split("\n")
        .filter((line) => line.includes("(a bug)"));
      if (bugs.length > 0) throw new Error(`Parley logged bugs:\n${bugs.join("\n")}`);
    },
  };
  await stack.startParley();
  return stack;
}
