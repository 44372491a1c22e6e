// In-process token buckets. A bucket that has refilled completely is the same as no bucket, so
// idle ones are swept away and memory stays proportional to recent activity.
import type { RateDecision, RateLimiter, RateRule } from "../domain/ports/rate-limit.ts";

interface Bucket {
  tokens: number;
  at: number;
  readonly rule: RateRule;
}

const SWEEP_EVERY_MS = 60_000;

export interface MemoryRateLimiter extends RateLimiter {
  /** Buckets held now (for tests and metrics). */
  size(): number;
  stop(): void;
}

export function createMemoryRateLimiter(now: () => number = Date.now): MemoryRateLimiter {
  const buckets = new Map<string, Bucket>();

  const refill = (bucket: Bucket, at: number) => {
    const perMs = bucket.rule.perMinute / 60_000;
    bucket.tokens = Math.min(bucket.rule.burst, bucket.tokens + (at - bucket.at) * perMs);
    bucket.at = at;
  };

  const sweep = () => {
    const at = now();
    for (const [key, bucket] of buckets) {
      refill(bucket, at);
      if (bucket.tokens >= bucket.rule.burst) buckets.delete(key);
    }
  };
  const timer = setInterval(sweep, SWEEP_EVERY_MS);
  timer.unref();

  return {
    take(key, rule, cost = 1): RateDecision {
      const at = now();
      let bucket = buckets.get(key);
      if (!bucket || bucket.rule !== rule) {
        bucket = { tokens: rule.burst, at, rule };
        buckets.set(key, bucket);
      } else refill(bucket, at);
      if (bucket.tokens >= cost) {
        bucket.tokens -= cost;
        return { ok: true };
      }
      const perMs = rule.perMinute / 60_000;
      const retryAfterMs = perMs > 0 ? (cost - bucket.tokens) / perMs : Number.MAX_SAFE_INTEGER;
      return { ok: false, retryAfterMs: Math.ceil(retryAfterMs) };
    },
    refund(key, rule, cost = 1) {
      const bucket = buckets.get(key);
      if (bucket && bucket.rule === rule) bucket.tokens = Math.min(rule.burst, bucket.tokens + cost);
    },
    size: () => buckets.size,
    stop() {
      clearInterval(timer);
      buckets.clear();
    },
  };
}
