// Reconnection delays: exponential, capped, with "equal jitter" (half fixed, half random) so a
// thousand clients dropped by one restart do not all come back in the same millisecond.
export interface BackoffOptions {
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialDelayMs: 500, maxDelayMs: 30_000 };

/** The delay before reconnect attempt `attempt` (0 is the first), given a random number in [0, 1). */
export function backoffDelay(
  attempt: number,
  random: number,
  options: BackoffOptions = DEFAULT_BACKOFF,
): number {
  const cap = Math.min(options.maxDelayMs, options.initialDelayMs * 2 ** Math.min(attempt, 30));
  return Math.round(cap / 2 + (random * cap) / 2);
}
