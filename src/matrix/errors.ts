// Turns the bot-sdk's failures into the Matrix port's two error types, so nothing above this layer
// sees library-specific errors. "Unavailable" means the request certainly or probably did not land.
import { MatrixError } from "@vector-im/matrix-bot-sdk";
import {
  UpstreamRateLimitedError,
  UpstreamRejectedError,
  UpstreamUnavailableError,
} from "../domain/ports/matrix.ts";

const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "ESOCKETTIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EPIPE",
]);

const statusOf = (error: unknown): number | undefined =>
  typeof error === "object" && error !== null && "statusCode" in error && typeof error.statusCode === "number"
    ? error.statusCode
    : undefined;

/** When the homeserver does not say how long to wait after a 429. */
const DEFAULT_RETRY_AFTER_MS = 1_000;

export function translateMatrixError(error: unknown): Error {
  if (error instanceof MatrixError && (error.statusCode === 429 || error.errcode === "M_LIMIT_EXCEEDED")) {
    return new UpstreamRateLimitedError(error.retryAfterMs ?? DEFAULT_RETRY_AFTER_MS);
  }
  if (error instanceof MatrixError) {
    if (error.statusCode >= 500) return new UpstreamUnavailableError(`homeserver error ${error.statusCode}`);
    return new UpstreamRejectedError(error.errcode, error.statusCode, error.error ?? error.errcode);
  }
  const status = statusOf(error);
  if (status === 429) return new UpstreamRateLimitedError(DEFAULT_RETRY_AFTER_MS);
  if (status !== undefined) {
    if (status >= 500) return new UpstreamUnavailableError(`homeserver answered ${status}`);
    return new UpstreamRejectedError("M_UNKNOWN", status, `homeserver answered ${status}`);
  }
  if (
    typeof error === "object" &&
    error !== null &&
    "code" in error &&
    NETWORK_CODES.has(String(error.code))
  ) {
    return new UpstreamUnavailableError(`homeserver unreachable (${String(error.code)})`);
  }
  return error instanceof Error ? error : new Error(String(error));
}

/** Runs a homeserver call, translating its failure. */
export async function upstream<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw translateMatrixError(error);
  }
}

export const isRejectedWith = (error: unknown, errcode: string): boolean =>
  error instanceof UpstreamRejectedError && error.errcode === errcode;

/**
 * The alias a new room was to get is taken. Synapse says M_ROOM_IN_USE when it was taken before;
 * when another createRoom took it while this one ran (two nodes creating one channel), it answers
 * 409 with M_UNKNOWN.
 */
export const isAliasTaken = (error: unknown): boolean =>
  isRejectedWith(error, "M_ROOM_IN_USE") || (error instanceof UpstreamRejectedError && error.status === 409);
