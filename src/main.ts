#!/usr/bin/env node
// The command line: reads argv, env and signals, and nothing else.
import { existsSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { API_KEY_USAGE, apiKeyCommand } from "./api-key-cli.ts";
import { signToken } from "./auth/jwt.ts";
import { ConfigError, loadConfig } from "./config/load.ts";
import { buildRegistration, isTemplateFile, registrationYaml } from "./matrix/registration.ts";
import { SchemaTooNewError } from "./store/migration-files.ts";

const USAGE = `usage: parley <command> [options]

commands:
  start                      run Parley
  registration [--force]     write the appservice registration file named in the config
  token <name> [--name N] [--admin] [--ttl SECONDS]
                             print a JWT for native user <name>, signed with the config's secret
  config check               validate the config file and exit
${API_KEY_USAGE}
options:
  --config FILE              the config file (default: $PARLEY_CONFIG or config/parley.yaml)
`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: "string" },
      force: { type: "boolean", default: false },
      name: { type: "string" },
      admin: { type: "boolean", default: false },
      ttl: { type: "string", default: "86400" },
      scope: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  const [command, ...rest] = positionals;
  if (values.help || command === undefined) {
    process.stdout.write(USAGE);
    return command === undefined && !values.help ? 2 : 0;
  }
  const configPath = values.config ?? process.env.PARLEY_CONFIG ?? "config/parley.yaml";
  const config = loadConfig(configPath);

  switch (command) {
    case "config":
      if (rest[0] !== "check") break;
      process.stdout.write(`${configPath}: ok\n`);
      return 0;
    case "registration": {
      const path = config.appservice.registrationPath;
      // The annotated template is documentation, tracked in git: real tokens never go into it.
      if (isTemplateFile(path)) {
        process.stderr.write(
          `${path} is the annotated registration template; set appservice.registration to another ` +
            "path (e.g. data/registration.yaml, kept out of version control) and run this again\n",
        );
        return 1;
      }
      if (existsSync(path) && !values.force) {
        process.stdout.write(
          `${path} exists; keeping it (use --force for new tokens, then restart the homeserver)\n`,
        );
        return 0;
      }
      writeFileSync(path, registrationYaml(buildRegistration(config)), { mode: 0o600 });
      process.stdout.write(`wrote ${path}\n`);
      return 0;
    }
    case "api-key": {
      const code = await apiKeyCommand(
        config,
        rest,
        { name: values.name, scope: values.scope },
        (text) => process.stdout.write(text),
        (text) => process.stderr.write(text),
      );
      if (code === undefined) break;
      return code;
    }
    case "token": {
      const name = rest[0];
      if (!name) break;
      const ttl = Number(values.ttl);
      if (!Number.isInteger(ttl) || ttl <= 0) throw new ConfigError("--ttl takes a whole number of seconds");
      const claims = {
        sub: name,
        ...(values.name ? { name: values.name } : {}),
        ...(values.admin ? { admin: true } : {}),
      };
      process.stdout.write(`${await signToken(config.auth.jwtSecret, claims, ttl)}\n`);
      return 0;
    }
    case "start": {
      const { configureLogging, createLogger } = await import("./logging.ts");
      configureLogging(config.log.level, config.log.format);
      // The last line of defence: every path has its own error boundary, so reaching these is a
      // bug. It is logged (tests look for this line) and the process keeps serving everyone else.
      const last = createLogger("Process");
      process.on("unhandledRejection", (reason) => last.error("unhandled rejection (a bug)", reason));
      process.on("uncaughtException", (error) => last.error("uncaught exception (a bug)", error));
      // Loaded only here, so the small commands do not pull in the whole Matrix stack.
      const { startParley } = await import("./app.ts");
      const parley = await startParley(config);
      // With JSON logs every line on stdout is one JSON object, this one too.
      if (config.log.format === "json") last.info(`native clients connect to ${parley.gatewayUrl}`);
      else process.stdout.write(`parley: native clients connect to ${parley.gatewayUrl}\n`);
      // SIGTERM or SIGINT: drain (clients are told to reconnect elsewhere, the outbox empties, for
      // at most gateway.drain_timeout_ms), stop, and exit 0. A second signal does not wait.
      const signal = await new Promise<NodeJS.Signals>((resolve) => {
        process.once("SIGINT", resolve);
        process.once("SIGTERM", resolve);
      });
      last.info(`${signal}: draining, then stopping`);
      const again = () => {
        last.warn("a second signal: exiting without waiting for the drain");
        process.exit(1);
      };
      process.once("SIGINT", again);
      process.once("SIGTERM", again);
      await parley.stop();
      last.info("stopped");
      return 0;
    }
  }
  process.stderr.write(USAGE);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (
      error instanceof ConfigError ||
      error instanceof SchemaTooNewError ||
      (error instanceof Error && error.name === "TypeError" && "code" in error)
    ) {
      process.stderr.write(`parley: ${error.message}\n`);
    } else {
      process.stderr.write(
        `parley: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
    }
    process.exitCode = 1;
  },
);
