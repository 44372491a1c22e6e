// The rate-limit port: token buckets by key. A node's own budgets (connections per address,
// requests per connection) are in-process and synchronous (RateLimiter, src/limits/memory.ts);
// what a user may do in the whole installation (create channels, join, upload, start DMs, make
// guests) is a SharedRateLimiter: the same buckets in-process on one node, in Redis across nodes
// (src/redis/rate-limit.ts).
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

/** Buckets every node shares. */
export interface SharedRateLimiter {
  take(key: string, rule: RateRule, cost?: number): Promise<RateDecision>;
  refund(key: string, rule: RateRule, cost?: number): Promise<void>;
}

/** One node's buckets as the shared ones (a one-node installation). */
export const sharedFrom = (local: RateLimiter): SharedRateLimiter => ({
  take: async (key, rule, cost) => local.take(key, rule, cost),
  refund: async (key, rule, cost) => local.refund?.(key, rule, cost),
});

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
export async function takeForActor(
  limiter: SharedRateLimiter,
  kind: string,
  actor: { readonly userId: string; readonly address?: string | undefined },
  rules: UserAndAddressRule,
  message?: string,
): Promise<void> {
  const user = await limiter.take(`${kind}:${actor.userId}`, rules.user);
  if (!user.ok) throw rateLimited(user.retryAfterMs, message);
  if (actor.address === undefined) return;
  const address = await limiter.take(`${kind}@${actor.address}`, rules.address);
  if (!address.ok) {
    await limiter.refund(`${kind}:${actor.userId}`, rules.user);
    throw rateLimited(address.retryAfterMs, message);
  }
}

/** Gives back what takeForActor took (the action then did nothing). */
export async function refundForActor(
  limiter: SharedRateLimiter,
  kind: string,
  actor: { readonly userId: string; readonly address?: string | undefined },
  rules: UserAndAddressRule,
): Promise<void> {
  await limiter.refund(`${kind}:${actor.userId}`, rules.user);
  if (actor.address !== undefined) await limiter.refund(`${kind}@${actor.address}`, rules.address);
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

/** takeOrThrow on the shared buckets. */
export async function takeSharedOrThrow(
  limiter: SharedRateLimiter,
  key: string,
  rule: RateRule,
  message?: string,
  cost = 1,
): Promise<void> {
  const decision = await limiter.take(key, rule, cost);
  if (!decision.ok) throw rateLimited(decision.retryAfterMs, message);
}
