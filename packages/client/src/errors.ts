// Errors carry the protocol's stable codes (docs/protocol.md), plus two of the client's own:
// `connection.closed` (the connection went away before a reply) and `connection.timeout`.
import { type ErrorCode, FATAL_AUTH_CODES } from "./protocol.ts";

/** Codes the client raises itself, not the server. */
export type ClientErrorCode = "connection.closed" | "connection.timeout";

export class ParleyError extends Error {
  readonly code: ErrorCode | ClientErrorCode;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode | ClientErrorCode, message?: string, details: Record<string, unknown> = {}) {
    super(message ?? code);
    this.name = "ParleyError";
    this.code = code;
    this.details = details;
  }

  static from(payload: unknown): ParleyError {
    const { code, message, ...details } = (payload ?? {}) as { code?: unknown; message?: unknown };
    // A code this SDK does not know (a newer server) still surfaces; typed as the closest one.
    return new ParleyError(
      typeof code === "string" ? (code as ErrorCode) : "server.fatal",
      typeof message === "string" ? message : undefined,
      details,
    );
  }
}

/** Login failures that retrying with the same credentials cannot fix. */
export const isFatalAuthError = (error: unknown): boolean =>
  error instanceof ParleyError && (FATAL_AUTH_CODES as readonly string[]).includes(error.code);
