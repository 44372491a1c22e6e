// A Parley process to fuzz, against a running Synapse, with a small world to aim at: a channel the
// fuzzer owns (with messages in it), one it is only a stranger to, and a direct channel of others.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify as toYaml } from "yaml";
import { signToken } from "../../src/auth/jwt.ts";
import { ACTION_NAMES } from "../../src/handlers/router.ts";
import { TestClient } from "./client.ts";
import type { FuzzWorld } from "./fuzz-frames.ts";
import type { FuzzTarget } from "./fuzz-run.ts";
import { TEST_LIMITS } from "./limits.ts";
import { logTail, type ParleyProcess, startParleyProcess } from "./parley-process.ts";
import { freePort } from "./synapse.ts";

export interface FuzzSetup {
  readonly target: FuzzTarget;
  readonly world: FuzzWorld;
  readonly actions: readonly string[];
  readonly process: ParleyProcess;
  readonly logPath: string;
  /** Lines the process logged as bugs (unhandled rejections, uncaught exceptions). */
  bugs(): string[];
  stop(): Promise<void>;
}

export const MAX_PAYLOAD_BYTES = 64 * 1024;

/**
 * Requests unlimited (else the limiter would answer most frames); what reaches the homeserver
 * keeps its default limit, so the fuzzer cannot spend the run waiting on Synapse.
 */
const FUZZ_LIMITS = {
  messages: { burst: 15, per_minute: 60 },
  joins: { burst: 30, per_minute: 30 },
  channel_creation: { burst: 5, per_minute: 2 },
  direct_creation: { burst: 10, per_minute: 6 },
  // Each fuzzed guest login is a new user with fresh buckets: per address is what holds them
  // (tighter than the defaults, so that room creation cannot fill the run).
  per_address: {
    joins: { burst: 300, per_minute: 600 },
    channel_creation: { burst: 5, per_minute: 2 },
    direct_creation: { burst: 5, per_minute: 2 },
    new_guests: { burst: 30, per_minute: 30 },
  },
};

export async function startFuzzTarget(env: {
  root: string;
  homeserverUrl: string;
  serverName: string;
  appservicePort: number;
  registrationPath: string;
  jwtSecret: string;
  /** Names unique to this run. */
  suffix: string;
}): Promise<FuzzSetup> {
  const gatewayPort = await freePort();
  const dbPath = join(env.root, `fuzz-${env.suffix}.db`);
  const configPath = join(env.root, `fuzz-${env.suffix}.yaml`);
  const logPath = join(env.root, `fuzz-${env.suffix}.log`);
  writeFileSync(
    configPath,
    toYaml({
      homeserver: { url: env.homeserverUrl, server_name: env.serverName },
      appservice: {
        registration: env.registrationPath,
        port: env.appservicePort,
        url: `http://127.0.0.1:${env.appservicePort}`,
      },
      gateway: { port: gatewayPort, max_payload_bytes: MAX_PAYLOAD_BYTES, web_client: true },
      auth: { jwt_secret: env.jwtSecret, guests: true },
      store: { sqlite_path: dbPath },
      // Requests and messages unlimited (else the limiter would answer most frames); creating
      // rooms and joining keep their defaults, so the fuzzer cannot spend the run on Synapse.
      limits: { ...TEST_LIMITS, ...FUZZ_LIMITS },
      log: { level: "warn" },
    }),
  );
  const url = `ws://127.0.0.1:${gatewayPort}/chat`;
  const parley = await startParleyProcess(configPath, logPath, url);
  const token = (sub: string, name: string) => signToken(env.jwtSecret, { sub, name });
  const fuzzer = `fuzzer_${env.suffix}`;
  const bystander = `bystander_${env.suffix}`;
  const user = (name: string) => `@chat_${name}:${env.serverName}`;
  const main = `fuzz_main_${env.suffix}`;
  const other = `fuzz_other_${env.suffix}`;

  // The world: the fuzzer owns `main` with a few messages; the bystander owns `other` and has a DM.
  const fuzzerClient = await TestClient.login(url, { token: await token(fuzzer, "Fuzzer") });
  const bystanderClient = await TestClient.login(url, { token: await token(bystander, "Bystander") });
  await fuzzerClient.ok("chat.join", { channel: main });
  for (const body of ["one", "two", "three"]) await fuzzerClient.say(main, body);
  await bystanderClient.ok("chat.join", { channel: other });
  await bystanderClient.say(other, "not yours");
  const dm = await bystanderClient.ok("chat.direct.create", { users: [user(`third_${env.suffix}`)] });
  fuzzerClient.close();
  bystanderClient.close();

  const world: FuzzWorld = {
    channels: [main, main, other, String(dm.id), `${main}.mods`, `new_${env.suffix}`],
    users: [user(fuzzer), user(bystander), user(`third_${env.suffix}`), "@carol:localhost"],
    maxPayloadBytes: MAX_PAYLOAD_BYTES,
  };
  let alive = true;
  void parley.exited.then(() => {
    alive = false;
  });
  return {
    target: {
      url,
      dbPath,
      logins: [{ token: await token(fuzzer, "Fuzzer") }, { client_id: `fuzz-guest-${env.suffix}` }],
      alive: () => alive,
    },
    world,
    actions: ACTION_NAMES,
    process: parley,
    logPath,
    bugs: () =>
      logTail(logPath, 100_000)
        .split("\n")
        .filter((line) => line.includes("(a bug)")),
    stop: () => parley.stop(),
  };
}
