// The Docker deployment: docker-compose.yml's structure (PostgreSQL, Synapse, Redis, two Parley
// nodes and HAProxy in front of them), the nodes' configs against Parley's own config schema, the
// proxy's routes, the Parley database's init script, the Synapse example config, and (where the
// binaries are installed; they validate without a Docker engine) docker-compose's and HAProxy's
// own validation.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { parseConfig } from "../../src/config/load.ts";
import { type ConfigFile, configSchema } from "../../src/config/schema.ts";
import { buildRegistration } from "../../src/matrix/registration.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const readText = (path: string): string => readFileSync(join(root, path), "utf8");
const readYaml = (path: string): unknown => parseYaml(readText(path));

interface Service {
  image?: string;
  build?: string | { context?: string };
  command?: string | string[];
  depends_on?: string[] | Record<string, { condition?: string }>;
  environment?: Record<string, string>;
  healthcheck?: { test?: string | string[] };
  volumes?: string[];
  ports?: string[];
  expose?: string[];
  networks?: string[] | Record<string, { ipv4_address?: string } | null>;
}
interface ComposeFile {
  version?: string;
  services: Record<string, Service>;
  volumes?: Record<string, { external?: boolean; name?: string } | null>;
  networks?: Record<string, { ipam?: { config?: Array<{ subnet?: string }> } } | null>;
}
interface Mount {
  source: string;
  target: string;
  readOnly: boolean;
}

const compose = readYaml("docker-compose.yml") as ComposeFile;
const NODES = ["parley-1", "parley-2"] as const;

function service(name: string): Service {
  const found = compose.services[name];
  if (found === undefined) throw new Error(`docker-compose.yml has no service ${name}`);
  return found;
}

// Short volume syntax only ("source:target[:mode]"), which is what docker-compose.yml uses.
const mounts = (s: Service): Mount[] =>
  (s.volumes ?? []).map((spec) => {
    const [source = "", target = "", mode = "rw"] = spec.split(":");
    return { source, target, readOnly: mode.split(",").includes("ro") };
  });

function mountAt(s: Service, target: string): Mount {
  const found = mounts(s).find((m) => m.target === target);
  if (found === undefined) throw new Error(`nothing is mounted at ${target}`);
  return found;
}

const isBindMount = (m: Mount) => m.source.startsWith(".") || m.source.startsWith("/");

const dependencies = (s: Service): Record<string, string | undefined> =>
  Array.isArray(s.depends_on)
    ? Object.fromEntries(s.depends_on.map((name) => [name, undefined]))
    : Object.fromEntries(Object.entries(s.depends_on ?? {}).map(([name, d]) => [name, d.condition]));

// "8080:8080", "127.0.0.1:8080:8080", "8080:8080/tcp" -> the container port.
const publishedContainerPorts = (s: Service): number[] =>
  (s.ports ?? []).map((spec) => Number(spec.split("/")[0]?.split(":").at(-1)));

const healthcheckText = (s: Service): string =>
  Array.isArray(s.healthcheck?.test) ? s.healthcheck.test.join(" ") : String(s.healthcheck?.test ?? "");

const ipv4 = (address: string): number =>
  address.split(".").reduce((value, octet) => value * 256 + Number(octet), 0);
function inSubnet(address: string, cidr: string): boolean {
  const [base = "", bits = "32"] = cidr.split("/");
  const size = 2 ** (32 - Number(bits));
  return Math.floor(ipv4(address) / size) === Math.floor(ipv4(base) / size);
}

// Each node's config is the file compose mounts at /data/parley.yaml in that node.
const nodeConfigFile = (node: string): string => mountAt(service(node), "/data/parley.yaml").source;
const rawNodeConfig = (node: string): Record<string, Record<string, unknown>> =>
  readYaml(nodeConfigFile(node)) as Record<string, Record<string, unknown>>;
const nodeConfigResults = Object.fromEntries(
  NODES.map((node) => [node, configSchema.safeParse(rawNodeConfig(node))]),
);
function nodeConfig(node: string): ConfigFile {
  const result = nodeConfigResults[node];
  if (!result?.success) throw new Error(`${node}'s config: ${result?.error.message}`);
  return result.data;
}

/**
 * What `parley registration` writes from a node's config: the file references swapped for inline
 * stand-ins (the secrets themselves are never in the repository), then the real code path.
 */
function registrationOf(node: string) {
  const raw = structuredClone(rawNodeConfig(node));
  const { jwt_secret_file: _secretFile, ...auth } = raw.auth ?? {};
  const { postgres_url_file: _urlFile, ...store } = raw.store ?? {};
  raw.auth = { ...auth, jwt_secret: "x".repeat(32) };
  raw.store = { ...store, postgres_url: "postgresql://parley:stand-in@postgres:5432/parley" };
  return buildRegistration(parseConfig(raw, "/data"));
}

// deploy/haproxy.cfg as sections ("frontend clients", "backend parley_gateway", ...), each a list
// of its directives with comments and indentation removed.
const haproxy: Map<string, string[]> = (() => {
  const sections = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of readText("deploy/haproxy.cfg").split("\n")) {
    const text = line.replace(/#.*$/, "").trimEnd();
    if (text.trim() === "") continue;
    const words = text.trim().replace(/\s+/g, " ");
    if (/^\s/.test(text)) current?.push(words);
    else {
      current = [];
      sections.set(words, current);
    }
  }
  return sections;
})();

function section(name: string): string[] {
  const found = haproxy.get(name);
  if (found === undefined) throw new Error(`deploy/haproxy.cfg has no section ${name}`);
  return found;
}

const directive = (lines: readonly string[], name: string): string[] =>
  lines
    .filter((line) => line === name || line.startsWith(`${name} `))
    .map((line) => line.slice(name.length).trim());

/** The backend a frontend bound to `port` sends to. */
function backendFor(port: number): { name: string; lines: string[] } {
  const frontends = [...haproxy.keys()].filter((name) => name.startsWith("frontend "));
  const frontend = frontends.find((name) =>
    directive(section(name), "bind").some((bind) => bind.split(" ")[0]?.endsWith(`:${port}`)),
  );
  if (frontend === undefined) throw new Error(`no frontend binds port ${port}`);
  const [backend] = directive(section(frontend), "default_backend");
  if (backend === undefined) throw new Error(`${frontend} has no default_backend`);
  return { name: backend, lines: section(`backend ${backend}`) };
}

/** `server NAME HOST:PORT options...` lines, parsed. */
const servers = (lines: readonly string[]) =>
  directive(lines, "server").map((spec) => {
    const [name = "", address = "", ...options] = spec.split(" ");
    const [host = "", port = ""] = address.split(":");
    return { name, host, port: Number(port), options };
  });

/** HAProxy times: a number with an optional unit (ms by default). */
function milliseconds(value: string | undefined): number {
  const match = /^(\d+)(us|ms|s|m|h|d)?$/.exec(value ?? "");
  if (!match) throw new Error(`not an HAProxy time: ${value}`);
  const unit = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] ?? "ms"] ?? 1;
  return Number(match[1]) * unit;
}
const timeout = (name: string): number =>
  milliseconds(
    directive(section("defaults"), "timeout")
      .find((t) => t.startsWith(`${name} `))
      ?.split(" ")[1],
  );

const proxyAddress = (): string | undefined => {
  const networks = service("proxy").networks;
  return Array.isArray(networks) ? undefined : networks?.default?.ipv4_address;
};

describe("docker-compose.yml", () => {
  it("declares PostgreSQL, Synapse, Redis, two Parley nodes and the proxy, each from an image or a build", () => {
    expect(Object.keys(compose.services).sort()).toEqual([
      "parley-1",
      "parley-2",
      "postgres",
      "proxy",
      "redis",
      "synapse",
    ]);
    for (const s of Object.values(compose.services)) expect(s.image ?? s.build).toBeDefined();
    // The Compose Specification: no `version:` (Compose v2 warns that the key is obsolete).
    expect(compose.version).toBeUndefined();
  });

  it("declares every named volume the services mount", () => {
    const declared = Object.keys(compose.volumes ?? {});
    expect(declared).toEqual(expect.arrayContaining(["postgres-data", "synapse-data", "parley-data"]));
    for (const s of Object.values(compose.services)) {
      for (const m of mounts(s).filter((m) => !isBindMount(m))) expect(declared).toContain(m.source);
    }
    // Synapse's signing key survives `docker compose down -v`.
    expect(compose.volumes?.["synapse-data"]).toEqual({ external: true, name: "parley-synapse-data" });
  });

  it("runs Postgres initialised the way Synapse requires, with Parley's database made at init", () => {
    const postgres = service("postgres");
    expect(postgres.image).toBe("postgres:16");
    const env = postgres.environment ?? {};
    const initdb = env.POSTGRES_INITDB_ARGS ?? "";
    expect(initdb).toContain("--encoding=UTF8");
    expect(initdb).toContain("--lc-collate=C");
    expect(initdb).toContain("--lc-ctype=C");
    // Both passwords come from .env, and compose refuses to run without them.
    expect(env.POSTGRES_PASSWORD).toMatch(/^\$\{POSTGRES_PASSWORD:\?/);
    expect(env.PARLEY_DB_PASSWORD).toMatch(/^\$\{PARLEY_DB_PASSWORD:\?/);
    expect(healthcheckText(postgres)).toContain("pg_isready");
    expect(isBindMount(mountAt(postgres, "/var/lib/postgresql/data"))).toBe(false);
    const init = mounts(postgres).filter((m) => m.target.startsWith("/docker-entrypoint-initdb.d/"));
    expect(init).toEqual([
      { source: "./deploy/postgres-init.sh", target: expect.stringMatching(/\.sh$/), readOnly: true },
    ]);
    expect(postgres.ports).toBeUndefined();
  });

  it("runs the pinned Synapse after Postgres is healthy, with Parley's registration read-only", () => {
    const synapse = service("synapse");
    expect(synapse.image).toBe("matrixdotorg/synapse:v1.163.2");
    expect(dependencies(synapse)).toEqual({ postgres: "service_healthy" });
    expect(isBindMount(mountAt(synapse, "/data"))).toBe(false);
    expect(mountAt(synapse, "/data/homeserver.yaml")).toEqual({
      source: "./deploy/homeserver.yaml",
      target: "/data/homeserver.yaml",
      readOnly: true,
    });
    expect(mountAt(synapse, "/data/appservices/parley.yaml")).toEqual({
      source: "./deploy/registration.yaml",
      target: "/data/appservices/parley.yaml",
      readOnly: true,
    });
  });

  it("runs Redis from a pinned official image, with a healthcheck, keeping nothing on disk", () => {
    const redis = service("redis");
    expect(redis.image).toMatch(/^redis:\d+\.\d+(\.\d+)?(-[a-z0-9]+)?$/);
    expect(healthcheckText(redis)).toMatch(/redis-cli.*ping/);
    expect(redis.command).toEqual(expect.arrayContaining(["--save", "", "--appendonly", "no"]));
    expect(redis.volumes).toBeUndefined();
  });

  it("builds both Parley nodes from the repository as one image, started once their services are healthy", () => {
    const [first, second] = NODES.map(service);
    expect(first?.image).toBeDefined();
    for (const node of NODES) {
      const s = service(node);
      expect(typeof s.build === "string" ? s.build : s.build?.context).toBe(".");
      expect(s.image).toBe(first?.image);
      expect(dependencies(s)).toMatchObject({
        postgres: "service_healthy",
        redis: "service_healthy",
        synapse: "service_healthy",
      });
      // A node is healthy when its gateway's /health answers.
      const config = nodeConfig(node);
      expect(healthcheckText(s)).toContain(`:${config.gateway.port}/health`);
      // Nothing of a node is published: the proxy reaches both of its ports.
      expect(s.ports).toBeUndefined();
      expect(s.expose).toEqual(
        expect.arrayContaining([String(config.gateway.port), String(config.appservice.port)]),
      );
      expect(isBindMount(mountAt(s, "/data"))).toBe(false);
      for (const secret of ["/data/jwt-secret", "/data/postgres-url"]) {
        expect(isBindMount(mountAt(s, secret))).toBe(true);
        expect(mountAt(s, secret).readOnly).toBe(true);
      }
      expect(mountAt(s, "/data/parley.yaml").readOnly).toBe(true);
    }
    // The same volume (the registration), secrets and URL; a config file of each node's own.
    for (const target of ["/data", "/data/jwt-secret", "/data/postgres-url"]) {
      expect(second && mountAt(second, target).source).toBe(first && mountAt(first, target).source);
    }
    expect(new Set(NODES.map(nodeConfigFile)).size).toBe(NODES.length);
  });

  it("publishes only Synapse's client API and the proxy's client port", () => {
    const published = Object.fromEntries(
      Object.entries(compose.services)
        .map(([name, s]) => [name, publishedContainerPorts(s)] as const)
        .filter(([, ports]) => ports.length > 0),
    );
    expect(published).toEqual({ synapse: [8008], proxy: [8080] });
  });

  it("runs a pinned HAProxy with its config read-only, at a fixed address on the stack's network", () => {
    const proxy = service("proxy");
    expect(proxy.image).toMatch(/^haproxy:\d+\.\d+(\.\d+)?(-[a-z0-9]+)?$/);
    expect(mountAt(proxy, "/usr/local/etc/haproxy/haproxy.cfg")).toEqual({
      source: "./deploy/haproxy.cfg",
      target: "/usr/local/etc/haproxy/haproxy.cfg",
      readOnly: true,
    });
    // It waits for no node, so one node down does not keep it (and the other node) from clients.
    expect(proxy.depends_on).toBeUndefined();
    const subnet = compose.networks?.default?.ipam?.config?.[0]?.subnet ?? "";
    expect(subnet).toMatch(/^\d+\.\d+\.\d+\.\d+\/\d+$/);
    expect(inSubnet(proxyAddress() ?? "", subnet)).toBe(true);
  });

  it("passes docker-compose's own validation", () => {
    // Debian's docker-compose 1.29 validates the file without a Docker engine. The passwords are
    // required by the file (${...:?...}); a deployment takes them from .env.
    const result = spawnSync("docker-compose", ["-f", "docker-compose.yml", "config", "-q"], {
      cwd: root,
      encoding: "utf8",
      env: {
        ...process.env,
        POSTGRES_PASSWORD: "only-for-validation",
        PARLEY_DB_PASSWORD: "only-for-validation",
      },
      timeout: 60_000,
    });
    // make test installs docker-compose (scripts/test-tools.sh): its absence is a failure, not a skip.
    expect(result.error, "docker-compose must be installed (scripts/test-tools.sh install)").toBeUndefined();
    expect(result.status, result.stderr).toBe(0);
  }, 90_000);
});

describe("the Parley nodes' configs (deploy/parley-1.yaml, deploy/parley-2.yaml)", () => {
  it.each(NODES)("%s's is a valid Parley config", (node) => {
    const result = nodeConfigResults[node];
    expect(result?.error?.issues ?? []).toEqual([]);
    expect(result?.success).toBe(true);
  });

  it("are the same but for distinct node ids", () => {
    const ids = NODES.map((node) => nodeConfig(node).cluster.node_id);
    for (const id of ids) expect(id).toBeDefined();
    expect(new Set(ids).size).toBe(NODES.length);
    const withoutId = NODES.map((node) => {
      const { node_id: _id, ...cluster } = nodeConfig(node).cluster;
      return { ...nodeConfig(node), cluster };
    });
    expect(withoutId[1]).toEqual(withoutId[0]);
  });

  it("share the stack's Redis and the PostgreSQL URL from a file outside the repository", () => {
    for (const node of NODES) {
      const config = nodeConfig(node);
      const redis = new URL(config.cluster.redis_url ?? "");
      expect(redis.protocol).toBe("redis:");
      expect(compose.services[redis.hostname]).toBe(compose.services.redis);
      expect(redis.port).toBe("6379");
      // The URL holds a password: never in the config, always the file compose mounts.
      expect(config.store.postgres_url).toBeUndefined();
      expect(mountAt(service(node), config.store.postgres_url_file ?? "")).toMatchObject({
        source: "./deploy/postgres-url",
        readOnly: true,
      });
    }
  });

  it("fit the compose network and the nodes' mounts and ports", () => {
    for (const node of NODES) {
      const config = nodeConfig(node);
      expect(config.homeserver.url).toBe("http://synapse:8008");
      expect(config.homeserver.server_name).toBe("example.org");
      expect(config.appservice).toMatchObject({ bind: "0.0.0.0", port: 9009 });
      // In the volume the nodes share: one registration, one pair of tokens.
      expect(config.appservice.registration).toBe("/data/registration.yaml");
      expect(config.gateway).toMatchObject({ bind: "0.0.0.0", port: 8080, path: "/chat" });
      expect(config.auth).toMatchObject({ jwt_secret_file: "/data/jwt-secret", guests: false });
      expect(mountAt(service(node), config.auth.jwt_secret_file ?? "").readOnly).toBe(true);
    }
  });

  it("believe X-Forwarded-For from the proxy's fixed address only", () => {
    expect(proxyAddress()).toBeDefined();
    for (const node of NODES) expect(nodeConfig(node).gateway.trusted_proxies).toEqual([proxyAddress()]);
  });

  it("give Synapse the proxy's appservice entry as the registration's url, not a node", () => {
    for (const node of NODES) {
      const url = new URL(registrationOf(node).url ?? "");
      expect(url.hostname).toBe("proxy");
      const port = Number(url.port);
      expect(service("proxy").expose).toContain(String(port));
      expect(publishedContainerPorts(service("proxy"))).not.toContain(port);
      // ...and the proxy sends it to every node's appservice listener.
      expect(servers(backendFor(port).lines).map((s) => `${s.host}:${s.port}`)).toEqual(
        NODES.map((n) => `${n}:${nodeConfig(n).appservice.port}`),
      );
    }
  });
});

describe("deploy/haproxy.cfg", () => {
  // Read inside each test, so that an invalid node config fails its own test above, not collection.
  const gatewayPort = () => nodeConfig("parley-1").gateway.port;

  it("balances the published client port (/chat and the HTTP routes) over every node's gateway", () => {
    const [published] = publishedContainerPorts(service("proxy"));
    const backend = backendFor(published ?? 0);
    expect(servers(backend.lines).map((s) => `${s.host}:${s.port}`)).toEqual(
      NODES.map((node) => `${node}:${gatewayPort()}`),
    );
    // Any node serves any client: no path rules (every path goes to the nodes) and no stickiness.
    for (const name of ["use_backend", "cookie", "stick", "stick-table"]) {
      expect([...haproxy.values()].flatMap((lines) => directive(lines, name))).toEqual([]);
    }
    expect(directive(backend.lines, "option")).toContain("httpchk GET /health");
  });

  it("adds the client's address to X-Forwarded-For on the client port", () => {
    const [published] = publishedContainerPorts(service("proxy"));
    const frontend = [...haproxy.entries()].find(
      ([name, lines]) =>
        name.startsWith("frontend ") && directive(lines, "bind").some((b) => b.startsWith(`:${published}`)),
    );
    expect(directive(frontend?.[1] ?? [], "option")).toContain("forwardfor");
  });

  it("keeps WebSockets open well past Parley's heartbeat, and HTTP past Synapse's 60 s transaction timeout", () => {
    const heartbeat = nodeConfig("parley-1").gateway.heartbeat_interval_ms;
    expect(timeout("tunnel")).toBeGreaterThanOrEqual(10 * heartbeat);
    expect(timeout("server")).toBeGreaterThanOrEqual(60_000);
    expect(timeout("client")).toBeGreaterThanOrEqual(60_000);
  });

  it("health-checks every node, the appservice listener through its gateway's /health", () => {
    const checked = directive(section("defaults"), "default-server").join(" ").split(" ");
    expect(checked).toContain("check");
    const backend = backendFor(nodeConfig("parley-1").appservice.port);
    expect(directive(backend.lines, "option")).toContain("httpchk GET /health");
    for (const server of servers(backend.lines)) {
      expect(server.options.join(" ")).toContain(`port ${gatewayPort()}`);
    }
  });

  it("finds the nodes through Docker's DNS, and starts while one is missing", () => {
    const resolvers = [...haproxy.keys()].find((name) => name.startsWith("resolvers "))?.split(" ")[1];
    expect(resolvers).toBeDefined();
    expect(directive(section(`resolvers ${resolvers}`), "nameserver")).toEqual([
      expect.stringMatching(/ 127\.0\.0\.11:53$/),
    ]);
    const defaults = directive(section("defaults"), "default-server").join(" ");
    expect(defaults).toContain(`resolvers ${resolvers}`);
    expect(defaults).toMatch(/init-addr \S*none/);
  });

  it("passes HAProxy's own check", () => {
    const result = spawnSync("haproxy", ["-c", "-f", "deploy/haproxy.cfg"], { cwd: root, encoding: "utf8" });
    // make test installs haproxy (scripts/test-tools.sh): its absence is a failure, not a skip.
    expect(result.error, "haproxy must be installed (scripts/test-tools.sh install)").toBeUndefined();
    expect(result.status, result.stderr).toBe(0);
  });
});

describe("deploy/postgres-init.sh", () => {
  const script = readText("deploy/postgres-init.sh");

  it("creates the role and database of the URL deploy/README.md writes into deploy/postgres-url", () => {
    const template = /postgresql:\/\/[^'"\s]*%s[^'"\s\\]*/.exec(readText("deploy/README.md"))?.[0];
    expect(template).toBeDefined();
    const url = new URL((template ?? "").replace("%s", "password"));
    expect(url.hostname).toBe("postgres");
    expect(compose.services[url.hostname]).toBe(compose.services.postgres);
    expect(url.port).toBe("5432");
    const database = url.pathname.slice(1);
    expect(script).toContain(`CREATE ROLE ${url.username} LOGIN PASSWORD :'password'`);
    expect(script).toContain(`CREATE DATABASE ${database} OWNER ${url.username}`);
    // The password is the one compose hands the postgres service from .env.
    expect(script).toContain("PARLEY_DB_PASSWORD");
    expect(Object.keys(service("postgres").environment ?? {})).toContain("PARLEY_DB_PASSWORD");
  });
});

describe("deploy/synapse-homeserver.yaml.example", () => {
  const homeserver = readYaml("deploy/synapse-homeserver.yaml.example") as {
    server_name?: string;
    database?: { name?: string; args?: Record<string, unknown> };
    app_service_config_files?: string[];
  };

  it("uses the postgres service and lists the registration where Synapse mounts it", () => {
    const env = service("postgres").environment ?? {};
    expect(homeserver.database?.name).toBe("psycopg2");
    expect(homeserver.database?.args).toMatchObject({
      host: "postgres",
      port: 5432,
      user: env.POSTGRES_USER,
      dbname: env.POSTGRES_DB,
    });
    expect(homeserver.app_service_config_files).toEqual(["/data/appservices/parley.yaml"]);
    expect(homeserver.server_name).toBe(nodeConfig("parley-1").homeserver.server_name);
  });
});

describe("Dockerfile", () => {
  const dockerfile = readText("Dockerfile");

  it("installs the stubbed crypto package before npm ci and runs Parley as node", () => {
    const stubs = dockerfile.indexOf("COPY stubs/");
    expect(stubs).toBeGreaterThan(-1);
    expect(dockerfile.indexOf("npm ci --omit=dev")).toBeGreaterThan(stubs);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toContain('ENTRYPOINT ["node", "--disable-warning=DEP0060", "src/main.ts"]');
    expect(dockerfile).toContain('CMD ["start", "--config", "/data/parley.yaml"]');
    expect(dockerfile).toMatch(/^EXPOSE 8080 9009$/m);
  });

  it("keeps local state and the deploy/ secrets out of the build context", () => {
    const ignored = readText(".dockerignore")
      .split("\n")
      .map((line) => line.trim());
    expect(ignored).toEqual(
      expect.arrayContaining([
        "node_modules",
        ".tools",
        ".venv-synapse",
        ".dev",
        ".test-data",
        ".git",
        "*.db",
        "deploy",
      ]),
    );
  });
});
