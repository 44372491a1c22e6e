// Starts one real Synapse for the end-to-end run, with Parley's registration on a free port.
import { randomBytes } from "node:crypto";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { TestProject } from "vitest/node";
import { buildRegistration, registrationYaml } from "../../src/matrix/registration.ts";
import type { E2EEnv } from "./e2e-env.ts";
import { testConfig } from "./parley.ts";
import { freePort, startSynapse } from "./synapse.ts";

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const root = resolve(".test-data", `run-${Date.now()}-${process.pid}`);
  mkdirSync(root, { recursive: true });
  const homeserverPort = await freePort();
  const appservicePort = await freePort();
  const env: E2EEnv = {
    root,
    homeserverUrl: `http://127.0.0.1:${homeserverPort}`,
    serverName: "localhost",
    appservicePort,
    registrationPath: join(root, "registration.yaml"),
    jwtSecret: randomBytes(32).toString("hex"),
  };
  writeFileSync(env.registrationPath, registrationYaml(buildRegistration(testConfig(env, "unused"))));
  const synapse = await startSynapse({
    dataDir: join(root, "synapse"),
    port: homeserverPort,
    registrationPath: env.registrationPath,
  });
  project.provide("e2e", env);
  return async () => {
    await synapse.stop();
    if (!process.env.PARLEY_KEEP_TEST_DATA) rmSync(root, { recursive: true, force: true });
  };
}
