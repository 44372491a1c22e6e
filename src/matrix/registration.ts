// The appservice registration: generated from the config with fresh tokens, written as YAML by us
// (matrix-appservice-bridge's getOutput() drops receive_ephemeral and the MSC2409 flag), read back
// with validation.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { parse as parseYaml, stringify as toYaml } from "yaml";
import { z } from "zod";
import type { Config } from "../config/load.ts";

const namespaceSchema = z.array(z.object({ exclusive: z.boolean(), regex: z.string() }));

export const registrationSchema = z
  .object({
    id: z.string().min(1),
    url: z.string().nullable(),
    as_token: z.string().min(16),
    hs_token: z.string().min(16),
    sender_localpart: z.string().min(1),
    rate_limited: z.boolean().optional(),
    namespaces: z.object({
      users: namespaceSchema.default([]),
      aliases: namespaceSchema.default([]),
      rooms: namespaceSchema.default([]),
    }),
    protocols: z.array(z.string()).optional(),
    receive_ephemeral: z.boolean().optional(),
    "de.sorunome.msc2409.push_ephemeral": z.boolean().optional(),
    ip_range_whitelist: z.array(z.string()).optional(),
  })
  .loose();

export type Registration = z.infer<typeof registrationSchema>;

const escapeRegex = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

export function buildRegistration(config: Config): Registration {
  const server = escapeRegex(config.homeserver.serverName);
  const token = () => randomBytes(32).toString("base64url");
  const loopback = LOOPBACK_HOSTS.has(new URL(config.appservice.url).hostname);
  return {
    id: config.appservice.id,
    url: config.appservice.url,
    as_token: token(),
    hs_token: token(),
    sender_localpart: config.appservice.botLocalpart,
    // Puppets post at human rates times many users: the homeserver must not throttle them.
    rate_limited: false,
    namespaces: {
      users: [{ exclusive: true, regex: `@${escapeRegex(config.appservice.userPrefix)}.*:${server}` }],
      aliases: [{ exclusive: true, regex: `#${escapeRegex(config.appservice.aliasPrefix)}.*:${server}` }],
      rooms: [],
    },
    // Both flags: the stable key, and the unstable one the Matrix libraries still read.
    // Matrix users find native users by name through the third-party lookup (Synapse keeps
    // appservice users out of its user directory).
    protocols: [config.appservice.id],
    receive_ephemeral: true,
    "de.sorunome.msc2409.push_ephemeral": true,
    // On one machine the as_token is only good from loopback.
    ...(loopback ? { ip_range_whitelist: ["127.0.0.0/8", "::1/128"] } : {}),
  };
}

export const registrationYaml = (registration: Registration): string =>
  `# Parley application service registration: give this file to Synapse (app_service_config_files).\n` +
  `# It holds secrets (as_token, hs_token): keep it out of version control.\n${toYaml(registration)}`;

/** What the annotated template at the top of the repository holds instead of real tokens. */
const PLACEHOLDER = /PLACEHOLDER|CHANGE_?ME/i;

/** Whether a registration is still the template (its tokens are placeholders). */
export const isTemplate = (registration: Pick<Registration, "as_token" | "hs_token">): boolean =>
  PLACEHOLDER.test(registration.as_token) || PLACEHOLDER.test(registration.hs_token);

/** Whether the file at `path` is the template (placeholder tokens); false when it cannot be read. */
export function isTemplateFile(path: string): boolean {
  try {
    const tokens = parseYaml(readFileSync(path, "utf8")) as { as_token?: unknown; hs_token?: unknown } | null;
    return isTemplate({ as_token: String(tokens?.as_token ?? ""), hs_token: String(tokens?.hs_token ?? "") });
  } catch {
    return false;
  }
}

export function readRegistration(path: string): Registration {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    throw new Error(`cannot read the registration ${path}; generate it with "parley registration"`);
  }
  const parsed = registrationSchema.safeParse(parseYaml(text));
  if (!parsed.success) throw new Error(`invalid registration ${path}:\n${z.prettifyError(parsed.error)}`);
  if (isTemplate(parsed.data)) {
    throw new Error(
      `${path} is the registration template: its tokens are placeholders. Write a real one with ` +
        `"parley registration --config <your config>", give it to Synapse, and start again.`,
    );
  }
  return parsed.data;
}
