// What every HTTP route shares: JSON answers with the protocol's error codes, and the headers
// every response carries. The server composes the routes (src/gateway/server.ts).
import type { ServerResponse } from "node:http";
import { UpstreamUnavailableError } from "../domain/ports/matrix.ts";
import type { Logger } from "../logging.ts";
import { type ErrorCode, isProtocolError, ProtocolError } from "../protocol/errors.ts";

/** On every response: nothing Parley serves may be sniffed into something else. */
export const BASE_HEADERS = { "x-content-type-options": "nosniff" } as const;

export const CORS = {
  "access-control-allow-origin": "*",
  "access-control-allow-headers": "authorization, content-type",
  "access-control-allow-methods": "GET, POST, OPTIONS",
} as const;

const STATUS: Partial<Record<ErrorCode, number>> = {
  "auth.missing_id_or_token": 401,
  "auth.invalid_token": 401,
  "auth.expired_token": 401,
  "auth.denied": 403,
  "chat.denied": 403,
  "chat.unknown": 404,
  "media.too_large": 413,
  "media.unsupported_type": 415,
  "media.bad_request": 400,
  "media.not_found": 404,
  "http.bad_request": 400,
  "http.not_found": 404,
  "http.forbidden_origin": 403,
  "http.method_not_allowed": 405,
  "http.payload_too_large": 413,
  "channel.banned": 403,
  "channel.timed_out": 403,
  "channel.rules_not_accepted": 403,
  "channel.slow_mode": 429,
  "user.not_found": 404,
  "user.do_not_disturb": 409,
  "api.unauthorized": 401,
  "api.forbidden": 403,
  "protocol.invalid_payload": 400,
  rate_limited: 429,
  "upstream.unavailable": 503,
  "server.fatal": 500,
};

export const statusOf = (code: ErrorCode): number => STATUS[code] ?? 400;

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string | number>> = {},
): void {
  res
    .writeHead(status, { "content-type": "application/json", ...BASE_HEADERS, ...headers })
    .end(JSON.stringify(body));
}

/** The error as HTTP: its status, `{code, message, ...}`, and Retry-After for `rate_limited`. */
export function sendError(
  res: ServerResponse,
  error: ProtocolError,
  headers: Readonly<Record<string, string | number>> = {},
): void {
  const retryAfter = error.details.retry_after;
  sendJson(res, statusOf(error.code), error.toPayload(), {
    ...headers,
    ...(typeof retryAfter === "number" ? { "retry-after": Math.ceil(retryAfter / 1000) } : {}),
  });
}

/** Maps any failure of a route to an answer; unexpected ones are logged once, never shown. */
export function failRequest(
  res: ServerResponse,
  error: unknown,
  log: Logger,
  context: string,
  headers: Readonly<Record<string, string | number>> = {},
): void {
  const known = isProtocolError(error)
    ? error
    : error instanceof UpstreamUnavailableError
      ? new ProtocolError("upstream.unavailable")
      : undefined;
  if (!known) log.error(`${context} failed`, error);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendError(res, known ?? new ProtocolError("server.fatal"), headers);
}
