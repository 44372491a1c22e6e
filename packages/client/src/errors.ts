// Errors carry the protocol's stable codes (docs/protocol.md), plus a few of the client's own:
// `connection.closed` (the connection went away before a reply) and `connection.timeout`.
export class ParleyError extends Error {
  readonly code: string;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: string, message?: string, details: Record<string, unknown> = {}) {
    super(message ?? code);
    this.name = "ParleyError";
    this.code = code;
    this.details = details;
  }

  static from(payload: unknown): ParleyError {
    const { code, message, ...details } = (payload ?? {}) as { code?: unknown; message?: unknown };
    return new ParleyError(typeof code === "string" ? code : "server.fatal", typeof message === "string" ? message : undefined, details);
  }
}

/** Login failures that retrying with the same credentials cannot fix. */
export const isFatalAuthError = (error: unknown): boolean =>
  error instanceof ParleyError && ["auth.invalid_token", "auth.expired_token", "auth.denied", "auth.missing_id_or_token"].includes(error.code);
