// The closed table of error codes a client can receive. Codes are stable; messages are for humans.
// test/unit/docs.test.ts checks that docs/protocol.md documents every code listed here.

export const ERROR_CODES = {
  "protocol.bad_frame": "The frame could not be read: not JSON, not an array, or the wrong arity or types.",
  "protocol.unknown_command": "No such action.",
  "protocol.invalid_payload": "The payload failed validation; `fields` names the failing fields.",
  "protocol.unauthenticated": "Only `authenticate` and `ping` are accepted before authentication.",
  "auth.missing_id_or_token": "`authenticate` needs a `token` or, where guests are allowed, a `client_id`.",
  "auth.invalid_token": "The token is malformed, has a bad signature, or lacks a valid `sub` or `exp`.",
  "auth.expired_token": "The token's `exp` is in the past.",
  "auth.denied": "This kind of login is not allowed here (for example guests are off).",
  "auth.already_authenticated": "The connection is already authenticated; open a new one to change user.",
  "channel.join.missing_profile": "The user has no display name yet; set one with `user.update` first.",
  "chat.denied": "The user lacks the right to do this, e.g. sending to a channel they have not joined.",
  "channel.banned": "The user is banned from this channel.",
  "channel.timed_out": "The user is timed out in this channel until `until` (ms since the epoch).",
  "channel.slow_mode": "Slow mode: retry after `retry_after` milliseconds.",
  "channel.rules_not_accepted": "The channel's rules must be accepted (chat.accept_rules) before posting.",
  "chat.unknown": "No such channel.",
  "chat.empty": "The message body is empty.",
  "chat.unknown_event": "No such message in this channel (for replies, edits, deletes and reactions).",
  "chat.unsupported_event_type": "Only `channel.message` events can be sent.",
  "chat.unsupported_content_type":
    "This content type is not supported: use text, emote, notice, files or deleted.",
  "user.not_found": "No such user.",
  "media.too_large": "The upload is larger than the configured limit (HTTP 413).",
  "media.unsupported_type": "This file type is not allowed here (HTTP 415).",
  "media.bad_request": "The upload request is malformed, e.g. without a body or filename (HTTP 400).",
  "media.not_found": "No such media (HTTP 404).",
  "http.bad_request": "The HTTP request cannot be read (a malformed target or body) (HTTP 400).",
  "http.not_found": "No such HTTP endpoint (HTTP 404).",
  "http.forbidden_origin": "WebSockets from this web page's origin are not allowed here (HTTP 403).",
  rate_limited: "Too many requests; retry after `retry_after` milliseconds (HTTP 429 with Retry-After).",
  "upstream.unavailable":
    "The homeserver could not be reached; nothing was posted. Retry with the same `txn_id`.",
  "server.fatal": "An unexpected server error; it was logged. Nothing more is disclosed.",
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export type ErrorDetails = Readonly<Record<string, unknown>>;

/** Thrown by handlers and services; the router turns it into an `error` frame. */
export class ProtocolError extends Error {
  readonly code: ErrorCode;
  readonly details: ErrorDetails;

  constructor(code: ErrorCode, message?: string, details: ErrorDetails = {}) {
    super(message ?? ERROR_CODES[code]);
    this.name = "ProtocolError";
    this.code = code;
    this.details = details;
  }

  toPayload(): Record<string, unknown> {
    return { code: this.code, message: this.message, ...this.details };
  }
}

export const isProtocolError = (value: unknown): value is ProtocolError => value instanceof ProtocolError;
