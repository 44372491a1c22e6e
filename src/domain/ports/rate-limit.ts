// The rate-limit port: token buckets by key. The in-process implementation is src/limits/memory.ts;
// one shared by several nodes would implement the same interface.
import { ProtocolError } from "../../protocol/errors.ts";

/** A bucket holds `burst` tokens and gains `perMinute` of them a minute; each request takes one. */
export interface RateRule {
  readonly burst: number;
  readonly perMinute: number;
}

export type RateDecision = { readonly ok: true } | { readonly ok: false; readonly retryAfterMs: number };

export interface RateLimiter {
  /** Takes `cost` tokens from the bucket `key` under `rule`, or says how long until it could. */
  take(key: string, rule: RateRule, cost?: number): RateDecision;
  /** Gives back what `take` took (when a second limit then refused). */
  refund?(key: string, rule: RateRule, cost?: number): void;
}

/** The protocol's answer to a refused take. */
export const rateLimited = (retryAfterMs: number, message = "Too many requests; slow down."): ProtocolError =>
  new ProtocolError("rate_limited", message, { retry_after: Math.max(1, Math.ceil(retryAfterMs)) });

/** A limit per user, and a wider one per client address (many users can share one). */
export interface UserAndAddressRule {
  readonly user: RateRule;
  readonly address: RateRule;
}

/**
 * Takes a token from the user's bucket and the address's bucket, or throws `rate_limited` (then
 * neither is taken: a refusal costs nothing).
 */
export function takeForActor(
  limiter: RateLimiter,
  kind: string,
  actor: { readonly userId: string; readonly address?: string | undefined },
  rules: UserAndAddressRule,
  message?: string,
): void {
  const user = limiter.take(`${kind}:${actor.userId}`, rules.user);
  if (!user.ok) throw rateLimited(user.retryAfterMs, message);
  if (actor.address === undefined) return;
  const address = limiter.take(`${kind}@${actor.address}`, rules.address);
  if (!address.ok) {
    limiter.refund?.(`${kind}:${actor.userId}`, rules.user);
    throw rateLimited(address.retryAfterMs, message);
  }
}

/** Gives back what takeForActor took (the action then did nothing). */
export function refundForActor(
  limiter: RateLimiter,
  kind: string,
  actor: { readonly userId: string; readonly address?: string | undefined },
  rules: UserAndAddressRule,
): void {
  limiter.refund?.(`${kind}:${actor.userId}`, rules.user);
  if (actor.address !== undefined) limiter.refund?.(`${kind}@${actor.address}`, rules.address);
}

/** Takes a token or throws `rate_limited` with `retry_after`. */
export function takeOrThrow(
  limiter: RateLimiter,
  key: string,
  rule: RateRule,
  message?: string,
  cost = 1,
): void {
  const decision = limiter.take(key, rule, cost);
  if (!decision.ok) throw rateLimited(decision.retryAfterMs, message);
}
