// Errors carry the protocol's stable codes (docs/protocol.md), plus two of the client's own:
// `connection.closed` (the connection went away before a reply) and `connection.timeout`.
import { type ErrorCode, FATAL_AUTH_CODES } from "./protocol.ts";

/** Codes the client raises itself, not the server. */
export type ClientErrorCode = "connection.closed" | "connection.timeout";

/** A code from the protocol's table, one of the client's own, or one a newer server added. */
export type ParleyErrorCode = ErrorCode | ClientErrorCode | (string & {});

export class ParleyError extends Error {
  readonly code: ParleyErrorCode;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: ParleyErrorCode, message?: string, details: Record<string, unknown> = {}) {
    super(message ?? code);
    this.name = "ParleyError";
    this.code = code;
    this.details = details;
  }

  static from(payload: unknown): ParleyError {
    const { code, message, ...details } = (payload ?? {}) as { code?: unknown; message?: unknown };
    return new ParleyError(
      typeof code === "string" ? code : "server.fatal",
      typeof message === "string" ? message : undefined,
      details,
    );
  }
}

/** Login failures that retrying with the same credentials cannot fix. */
export const isFatalAuthError = (error: unknown): boolean =>
  error instanceof ParleyError && (FATAL_AUTH_CODES as readonly string[]).includes(error.code);
