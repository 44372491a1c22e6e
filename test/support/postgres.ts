// A private PostgreSQL for tests, from the machine's own binaries: its own data directory under a
// temp dir (in memory when /dev/shm is there: on disk, creating a database takes ten times as
// long), a free port on 127.0.0.1, its socket in the data directory, fsync off. It never
// touches the machine's own server (5432). initdb refuses root, so as root the server runs as the
// `postgres` account Debian's package creates (setpriv execs, so the pid we hold is postgres's).
import { type ChildProcess, execFile, spawn } from "node:child_process";
import {
  accessSync,
  chownSync,
  closeSync,
  constants,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import pg from "pg";
import { freePort } from "./synapse.ts";

const run = promisify(execFile);
const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const INSTALL = join(REPO_ROOT, "scripts", "test-tools.sh");
const READY_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 10_000;
const SUPERUSER = "parley";
/** The file in a server's directory naming the test process it belongs to. */
const OWNER = "owner.pid";

export interface PostgresServer {
  /** The superuser's URL of the `postgres` database. */
  readonly url: string;
  /** A new database on this server, empty or a copy of `template` (a URL, nobody connected): its URL. */
  createDatabase(template?: string): Promise<string>;
  /** Kills every client backend (pg_terminate_backend), as a network cut or failover would. */
  terminateConnections(): Promise<void>;
  restart(): Promise<void>;
  /** Stops the server and removes its files; no process is left behind. */
  stop(): Promise<void>;
}

/** The newest /usr/lib/postgresql/N/bin with initdb, installing Debian's package when none is. */
async function binDir(): Promise<string> {
  const find = () => {
    const root = "/usr/lib/postgresql";
    const versions = existsSync(root) ? readdirSync(root).filter((v) => /^\d+$/.test(v)) : [];
    versions.sort((a, b) => Number(b) - Number(a));
    return versions.map((v) => join(root, v, "bin")).find((dir) => existsSync(join(dir, "initdb")));
  };
  const found = find();
  if (found) return found;
  await run("bash", [INSTALL, "install", "postgresql"], { maxBuffer: 16 * 1024 * 1024 });
  const installed = find();
  if (!installed) throw new Error("no PostgreSQL binaries under /usr/lib/postgresql after installing them");
  return installed;
}

/**
 * How to run a server binary: through setpriv, so it gets SIGQUIT (an immediate shutdown) if the
 * test process dies without stopping it, and as `postgres` when we are root (initdb and postgres
 * refuse root).
 */
function runner(): { wrap(command: string[]): string[]; owner?: { uid: number; gid: number } } {
  const orphaned = ["setpriv", "--pdeathsig", "SIGQUIT"];
  if (process.getuid?.() !== 0) return { wrap: (command) => [...orphaned, ...command] };
  const entry = readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .map((line) => line.split(":"))
    .find((fields) => fields[0] === "postgres");
  if (!entry) throw new Error("running as root and there is no `postgres` account to run PostgreSQL as");
  const owner = { uid: Number(entry[2]), gid: Number(entry[3]) };
  return {
    owner,
    wrap: (command) => [
      ...orphaned,
      `--reuid=${owner.uid}`,
      `--regid=${owner.gid}`,
      "--clear-groups",
      ...command,
    ],
  };
}

function memoryTmp(): string | undefined {
  try {
    accessSync("/dev/shm", constants.W_OK);
    return "/dev/shm";
  } catch {
    return undefined;
  }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
};

/**
 * Removes what killed test runs left (in /dev/shm a directory holds memory until it goes): the
 * directories whose test process is gone. One without an owner file is left ten minutes to start.
 */
function removeLeftovers(parent: string): void {
  const stale = Date.now() - 10 * 60_000;
  for (const name of readdirSync(parent).filter((n) => n.startsWith("parley-pg-"))) {
    const root = join(parent, name);
    const owner = join(root, OWNER);
    const gone = existsSync(owner)
      ? !alive(Number(readFileSync(owner, "utf8")))
      : statSync(root).mtimeMs < stale;
    if (gone) rmSync(root, { recursive: true, force: true });
  }
}

const sleep = (ms: number) => new Promise((resolveSleep) => setTimeout(resolveSleep, ms));

/** Servers still running, and their directories: a test process that exits leaves neither behind. */
const running = new Map<ChildProcess, string>();
process.on("exit", () => {
  for (const [child, root] of running) {
    // Immediate shutdown: the postmaster takes its backends with it.
    child.kill("SIGQUIT");
    rmSync(root, { recursive: true, force: true });
  }
});

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolveExit) => child.once("exit", () => resolveExit()));
}

async function stopChild(child: ChildProcess): Promise<void> {
  // SIGINT is a fast shutdown: clients are disconnected, the server exits cleanly.
  child.kill("SIGINT");
  const timer = setTimeout(() => child.kill("SIGKILL"), STOP_GRACE_MS);
  await exited(child);
  clearTimeout(timer);
}

export async function startPostgres(): Promise<PostgresServer> {
  const bin = await binDir();
  const as = runner();
  const parent = memoryTmp() ?? tmpdir();
  removeLeftovers(parent);
  const root = mkdtempSync(join(parent, "parley-pg-"));
  writeFileSync(join(root, OWNER), String(process.pid));
  try {
    return await startIn(root, bin, as);
  } catch (error) {
    rmSync(root, { recursive: true, force: true });
    throw error;
  }
}

async function startIn(root: string, bin: string, as: ReturnType<typeof runner>): Promise<PostgresServer> {
  const data = join(root, "data");
  if (as.owner) chownSync(root, as.owner.uid, as.owner.gid);
  const initdb = as.wrap([
    join(bin, "initdb"),
    ...["-D", data, "-U", SUPERUSER, "-A", "trust", "-E", "UTF8", "--no-locale", "--no-sync"],
  ]);
  await run(initdb[0] ?? "", initdb.slice(1), { cwd: root });
  const port = await freePort();
  const url = (database: string) => `postgresql://${SUPERUSER}@127.0.0.1:${port}/${database}`;
  const log = join(root, "postgres.log");

  const boot = async (): Promise<ChildProcess> => {
    const settings = {
      listen_addresses: "127.0.0.1",
      port: String(port),
      unix_socket_directories: data,
      fsync: "off",
      synchronous_commit: "off",
      full_page_writes: "off",
      wal_init_zero: "off",
      // In the data directory rather than /dev/shm: removed with it even after a crash.
      dynamic_shared_memory_type: "mmap",
    };
    const command = as.wrap([
      join(bin, "postgres"),
      "-D",
      data,
      ...Object.entries(settings).flatMap(([key, value]) => ["-c", `${key}=${value}`]),
    ]);
    const out = openSync(log, "a");
    const child = spawn(command[0] ?? "", command.slice(1), { cwd: root, stdio: ["ignore", out, out] });
    closeSync(out);
    running.set(child, root);
    child.once("exit", () => running.delete(child));
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      if (child.exitCode !== null) {
        throw new Error(`PostgreSQL exited while starting:\n${readFileSync(log, "utf8").slice(-2000)}`);
      }
      const client = new pg.Client({ connectionString: url("postgres") });
      try {
        await client.connect();
        await client.end();
        return child;
      } catch (error) {
        client.end().catch(() => undefined);
        if (Date.now() > deadline) {
          await stopChild(child);
          throw new Error(`PostgreSQL did not accept connections on ${port}: ${String(error)}`);
        }
      }
      await sleep(50);
    }
  };

  const admin = async <T>(work: (client: pg.Client) => Promise<T>): Promise<T> => {
    const client = new pg.Client({ connectionString: url("postgres") });
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end();
    }
  };

  let child = await boot();
  let databases = 0;
  return {
    url: url("postgres"),
    async createDatabase(template) {
      const name = `parley_test_${++databases}`;
      const from = template === undefined ? "" : ` TEMPLATE ${new URL(template).pathname.slice(1)}`;
      await admin((client) => client.query(`CREATE DATABASE ${name}${from}`));
      return url(name);
    },
    async terminateConnections() {
      await admin((client) =>
        client.query(
          `SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity
           WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()`,
        ),
      );
    },
    async restart() {
      await stopChild(child);
      child = await boot();
    },
    async stop() {
      await stopChild(child);
      rmSync(root, { recursive: true, force: true });
    },
  };
}
