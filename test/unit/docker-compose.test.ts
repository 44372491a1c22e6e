// The Docker deployment: docker-compose.yml's structure, deploy/parley.yaml against Parley's own
// config schema, the Synapse example config against both, and (where the docker-compose binary is
// installed; it validates without a Docker engine) Compose's own validation.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { configSchema } from "../../src/config/schema.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
const readText = (path: string): string => readFileSync(join(root, path), "utf8");
const readYaml = (path: string): unknown => parseYaml(readText(path));

interface Service {
  image?: string;
  build?: string | { context?: string };
  depends_on?: string[] | Record<string, { condition?: string }>;
  environment?: Record<string, string>;
  healthcheck?: { test?: string | string[] };
  volumes?: string[];
  ports?: string[];
  expose?: string[];
}
interface ComposeFile {
  version?: string;
  services: Record<string, Service>;
  volumes?: Record<string, { external?: boolean; name?: string } | null>;
}
interface Mount {
  source: string;
  target: string;
  readOnly: boolean;
}

const compose = readYaml("docker-compose.yml") as ComposeFile;

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

const parleyConfigResult = configSchema.safeParse(readYaml("deploy/parley.yaml"));
function parleyConfig() {
  if (!parleyConfigResult.success) throw new Error(`deploy/parley.yaml: ${parleyConfigResult.error.message}`);
  return parleyConfigResult.data;
}

describe("docker-compose.yml", () => {
  it("declares the three services, each from an image or a build", () => {
    expect(Object.keys(compose.services).sort()).toEqual(["parley", "postgres", "synapse"]);
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
  });

  it("runs Postgres initialised the way Synapse requires, with a pg_isready healthcheck", () => {
    const postgres = service("postgres");
    expect(postgres.image).toBe("postgres:16");
    const initdb = postgres.environment?.POSTGRES_INITDB_ARGS ?? "";
    expect(initdb).toContain("--encoding=UTF8");
    expect(initdb).toContain("--lc-collate=C");
    expect(initdb).toContain("--lc-ctype=C");
    expect(postgres.environment?.POSTGRES_PASSWORD).toMatch(/^\$\{POSTGRES_PASSWORD:\?/);
    expect(String(postgres.healthcheck?.test)).toContain("pg_isready");
    expect(isBindMount(mountAt(postgres, "/var/lib/postgresql/data"))).toBe(false);
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
    expect(publishedContainerPorts(synapse)).toEqual([8008]);
  });

  it("builds Parley from the repository, after Synapse, publishing only the gateway", () => {
    const parley = service("parley");
    const build = parley.build;
    expect(typeof build === "string" ? build : build?.context).toBe(".");
    expect(Object.keys(dependencies(parley))).toEqual(["synapse"]);
    expect(isBindMount(mountAt(parley, "/data"))).toBe(false);
    expect(mountAt(parley, "/data/parley.yaml")).toMatchObject({
      source: "./deploy/parley.yaml",
      readOnly: true,
    });
    expect(mountAt(parley, "/data/jwt-secret")).toMatchObject({
      source: "./deploy/jwt-secret",
      readOnly: true,
    });
    expect(publishedContainerPorts(parley)).toEqual([8080]);
    expect(parley.expose).toEqual(["9009"]);
  });

  it("passes docker-compose's own validation", () => {
    // The structure every deployment relies on, checked whether or not the binary is here.
    expect(compose.services.parley?.build).toBeDefined();
    expect(mounts(service("synapse")).some((m) => m.target === "/data/appservices/parley.yaml")).toBe(true);
    // Debian's docker-compose 1.29 validates the file without a Docker engine. The password is
    // required by the file (${POSTGRES_PASSWORD:?...}); a deployment takes it from .env.
    const result = spawnSync("docker-compose", ["-f", "docker-compose.yml", "config", "-q"], {
      cwd: root,
      encoding: "utf8",
      env: { ...process.env, POSTGRES_PASSWORD: "only-for-validation" },
      timeout: 60_000,
    });
    // make test installs docker-compose (scripts/test-tools.sh): its absence is a failure, not a skip.
    expect(result.error, "docker-compose must be installed (scripts/test-tools.sh install)").toBeUndefined();
    expect(result.status, result.stderr).toBe(0);
  }, 90_000);
});

describe("deploy/parley.yaml", () => {
  it("is a valid Parley config", () => {
    expect(parleyConfigResult.error?.issues ?? []).toEqual([]);
    expect(parleyConfigResult.success).toBe(true);
  });

  it("fits the compose network and the parley service's mounts and ports", () => {
    const config = parleyConfig();
    expect(config.homeserver.url).toBe("http://synapse:8008");
    expect(config.homeserver.server_name).toBe("example.org");
    expect(config.appservice).toMatchObject({ url: "http://parley:9009", bind: "0.0.0.0", port: 9009 });
    expect(config.appservice.registration).toBe("/data/registration.yaml");
    expect(config.gateway).toMatchObject({ bind: "0.0.0.0", port: 8080 });
    expect(config.auth).toMatchObject({ jwt_secret_file: "/data/jwt-secret", guests: false });
    expect(config.store.sqlite_path).toBe("/data/parley.db");
    const parley = service("parley");
    expect(publishedContainerPorts(parley)).toContain(config.gateway.port);
    expect(parley.expose).toContain(String(config.appservice.port));
    expect(mountAt(parley, config.auth.jwt_secret_file ?? "").readOnly).toBe(true);
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
    expect(homeserver.server_name).toBe(parleyConfig().homeserver.server_name);
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

  it("keeps local state out of the build context", () => {
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
      ]),
    );
  });
});
