// `parley api-key create | list | revoke`: the operator's keys for the server API, made in the
// store Parley uses (it may be running). A new key is printed once, alone on the last line.
import type { Config } from "./config/load.ts";
import { API_SCOPES, createApiKeys } from "./domain/integrations/api-keys.ts";
import { createNaming } from "./domain/naming.ts";
import type { ApiScope } from "./domain/ports/store.ts";
import { openStore } from "./store/open.ts";

export const API_KEY_USAGE = `  api-key create --name NAME --scope read|post|admin
                             make a server API key; prints it once, alone on the last line
  api-key list               the keys: id, scope, name, created, revoked
  api-key revoke ID          the key is refused from now on
`;

const isScope = (value: string): value is ApiScope => (API_SCOPES as readonly string[]).includes(value);

/** Runs the subcommand; the exit code, or undefined for a usage error. */
export async function apiKeyCommand(
  config: Config,
  args: readonly string[],
  options: { readonly name?: string | undefined; readonly scope?: string | undefined },
  out: (text: string) => void,
  err: (text: string) => void,
): Promise<number | undefined> {
  const [sub, id] = args;
  if (sub !== "create" && sub !== "list" && sub !== "revoke") return undefined;
  if (sub === "create" && (options.name === undefined || options.scope === undefined)) return undefined;
  if (sub === "revoke" && id === undefined) return undefined;
  if (sub === "create" && !isScope(options.scope ?? "")) {
    err(`--scope is one of ${API_SCOPES.join(", ")}\n`);
    return 2;
  }
  const store = await openStore(config);
  try {
    const keys = createApiKeys(
      store,
      createNaming({
        serverName: config.homeserver.serverName,
        userPrefix: config.appservice.userPrefix,
        aliasPrefix: config.appservice.aliasPrefix,
        botLocalpart: config.appservice.botLocalpart,
      }),
    );
    switch (sub) {
      case "create": {
        const made = await keys.create(options.name ?? "", options.scope as ApiScope);
        out(`created key ${made.id} (${made.scope}) "${made.name}", posting as ${made.user}\n`);
        out("store it now: it is not shown again\n");
        out(`${made.key}\n`);
        return 0;
      }
      case "list": {
        for (const key of await keys.list()) {
          const created = new Date(key.created_at).toISOString();
          const revoked = key.revoked_at === null ? "" : ` revoked ${new Date(key.revoked_at).toISOString()}`;
          out(`${key.id}\t${key.scope}\t${key.name}\tcreated ${created}${revoked}\n`);
        }
        return 0;
      }
      case "revoke": {
        if (await keys.revoke(id ?? "")) {
          out(`revoked ${id}\n`);
          return 0;
        }
        err(`no live key ${id}\n`);
        return 1;
      }
    }
  } finally {
    await store.close();
  }
}
