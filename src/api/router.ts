// The server API over HTTP: finds the operation for a method and path, checks the key, its scope
// and its rate, validates path, query and body with the operation's schemas, and answers JSON.
// Mounted on the gateway's HTTP server as one route (src/gateway/server.ts).
import type { IncomingMessage, ServerResponse } from "node:http";
import type { z } from "zod";
import { scopeAllows } from "../domain/integrations/api-keys.ts";
import { type RateRule, type SharedRateLimiter, takeSharedOrThrow } from "../domain/ports/rate-limit.ts";
import { sendJson } from "../gateway/http.ts";
import type { HttpRoute } from "../gateway/server.ts";
import { ProtocolError } from "../protocol/errors.ts";
import { failingFields } from "../protocol/schemas.ts";
import { readBody } from "../shared/read-body.ts";
import type { ApiCaller, ApiOperation } from "./define.ts";
import { openApiDocument } from "./openapi.ts";
import type { ApiServices } from "./services.ts";

/** JSON bodies the API takes: a message with its files' metadata fits many times over. */
const MAX_BODY_BYTES = 256 * 1024;

interface Compiled {
  readonly operation: ApiOperation;
  readonly pattern: RegExp;
  readonly names: readonly string[];
}

function compile(operation: ApiOperation): Compiled {
  const names: string[] = [];
  // Paths hold only letters, slashes and {names}: nothing to escape.
  const source = operation.path.replace(/\{(\w+)\}/g, (_match, name: string) => {
    names.push(name);
    return "([^/]+)";
  });
  return { operation, pattern: new RegExp(`^${source}$`), names };
}

const invalid = (fields: string[], message = "The request failed validation.") =>
  new ProtocolError("protocol.invalid_payload", message, { fields });

function parse<S extends z.ZodType>(
  schema: S | undefined,
  value: unknown,
  prefix: string,
): z.output<S> | undefined {
  if (!schema) return undefined;
  const result = schema.safeParse(value);
  if (!result.success) {
    throw invalid(
      failingFields(result.error).map((field) => (field === "(payload)" ? prefix : `${prefix}.${field}`)),
    );
  }
  return result.data;
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const raw = await readBody(
    req,
    MAX_BODY_BYTES,
    () => new ProtocolError("http.payload_too_large", `Bodies are at most ${MAX_BODY_BYTES} bytes.`),
  );
  if (raw.length === 0) return undefined;
  try {
    return JSON.parse(raw.toString("utf8"));
  } catch {
    throw invalid(["body"], "The body is not JSON.");
  }
}

export interface ApiRouterDeps {
  readonly services: ApiServices;
  readonly operations: readonly ApiOperation[];
  /** Each key's requests. */
  readonly rate: { readonly limiter: SharedRateLimiter; readonly rule: RateRule };
  readonly version: string;
}

export function apiRoutes(deps: ApiRouterDeps): HttpRoute {
  const { services, rate } = deps;
  const compiled = deps.operations.map(compile);
  let document: string | undefined;

  const authenticate = async (
    req: IncomingMessage,
    operation: ApiOperation,
  ): Promise<ApiCaller | undefined> => {
    if (operation.scope === null) return undefined;
    const header = req.headers.authorization;
    const token = typeof header === "string" && /^Bearer /i.test(header) ? header.slice(7).trim() : undefined;
    const key = token === undefined ? undefined : await services.apiKeys.verify(token);
    if (!key) throw new ProtocolError("api.unauthorized");
    await takeSharedOrThrow(
      rate.limiter,
      `api:${key.id}`,
      rate.rule,
      "This API key is making too many requests.",
    );
    if (!scopeAllows(key.scope, operation.scope)) {
      throw new ProtocolError(
        "api.forbidden",
        `This operation needs a key with the ${operation.scope} scope.`,
      );
    }
    return {
      key,
      actor: { userId: services.apiKeys.userOf(key), admin: key.scope === "admin", isGuest: false },
    };
  };

  const run = async (
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    found: Compiled,
    match: RegExpExecArray,
  ) => {
    const { operation } = found;
    const caller = await authenticate(req, operation);
    const rawParams: Record<string, string> = {};
    found.names.forEach((name, i) => {
      try {
        rawParams[name] = decodeURIComponent(match[i + 1] ?? "");
      } catch {
        throw invalid([name], "A path segment is not valid percent-encoding.");
      }
    });
    const params = parse(operation.params, rawParams, "path");
    const query = parse(operation.query, Object.fromEntries(url.searchParams), "query");
    const body = operation.body ? parse(operation.body, await readJson(req), "body") : undefined;
    const result = await operation.handle({ params, query, body, caller, services });
    sendJson(res, result.status, result.body);
  };

  return (req, res, url) => {
    // The path as sent: URL parsing would drop `.` and `..` segments, which are channel names here.
    const path = (req.url ?? "/").split("?")[0] ?? url.pathname;
    if (!path.startsWith("/api/v1/") && !path.startsWith("/hooks/")) return false;
    if (path === "/api/v1/openapi.json" && req.method === "GET") {
      document ??= JSON.stringify(openApiDocument(deps.operations, deps.version));
      res
        .writeHead(200, { "content-type": "application/json", "x-content-type-options": "nosniff" })
        .end(document);
      return Promise.resolve();
    }
    const matching = compiled
      .map((entry) => ({ entry, match: entry.pattern.exec(path) }))
      .filter(
        (candidate): candidate is { entry: Compiled; match: RegExpExecArray } => candidate.match !== null,
      );
    if (matching.length === 0) {
      return Promise.reject(new ProtocolError("http.not_found", `No endpoint ${path}.`));
    }
    const chosen = matching.find((candidate) => candidate.entry.operation.method === req.method);
    if (!chosen) {
      res.setHeader(
        "allow",
        [...new Set(matching.map((candidate) => candidate.entry.operation.method))].join(", "),
      );
      return Promise.reject(
        new ProtocolError("http.method_not_allowed", `${path} does not take ${req.method}.`),
      );
    }
    return run(req, res, url, chosen.entry, chosen.match);
  };
}
