// Errors as the server raises them. The closed table of codes is in ./wire.ts (shared with the
// SDK); test/unit/docs.test.ts checks that docs/protocol.md documents every code in it.

import { ERROR_CODES, type ErrorCode } from "./wire.ts";

export { ERROR_CODES, type ErrorCode };

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
