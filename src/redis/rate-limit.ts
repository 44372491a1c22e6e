// Token buckets every node shares, in Redis: one small script takes or refunds atomically, and a
// bucket expires once it would be full again. If Redis cannot be reached the request is let
// through (with a warning): a limit must not take the chat down with it.
import type { Redis } from "ioredis";
import type { RateDecision, RateRule, SharedRateLimiter } from "../domain/ports/rate-limit.ts";
import type { Logger } from "../logging.ts";
import { KEY_PREFIX, throttledWarn } from "./client.ts";

const TAKE = `
local burst = tonumber(ARGV[1])
local perMs = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local now = tonumber(ARGV[4])
local ttl = tonumber(ARGV[5])
local b = redis.call('HMGET', KEYS[1], 't', 'at')
local tokens = tonumber(b[1])
local at = tonumber(b[2])
if tokens == nil or at == nil then tokens = burst; at = now end
tokens = math.min(burst, tokens + math.max(0, now - at) * perMs)
local ok = 0
local wait = 0
if tokens >= cost then
  tokens = tokens - cost
  ok = 1
elseif perMs > 0 then
  wait = math.ceil((cost - tokens) / perMs)
else
  wait = 9007199254740991
end
redis.call('HSET', KEYS[1], 't', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], ttl)
return {ok, wait}
`;

const REFUND = `
local burst = tonumber(ARGV[1])
local cost = tonumber(ARGV[2])
local tokens = tonumber(redis.call('HGET', KEYS[1], 't'))
if tokens == nil then return 0 end
redis.call('HSET', KEYS[1], 't', tostring(math.min(burst, tokens + cost)))
return 1
`;

const DAY_MS = 86_400_000;

export function createRedisRateLimiter(redis: Redis, log: Logger): SharedRateLimiter {
  const warn = throttledWarn(log);
  const key = (name: string) => `${KEY_PREFIX}rate:${name}`;
  const perMsOf = (rule: RateRule) => rule.perMinute / 60_000;
  /** Until the bucket would be full again: after that it is the same as no bucket. */
  const ttlOf = (rule: RateRule) => {
    const perMs = perMsOf(rule);
    return perMs > 0 ? Math.ceil(rule.burst / perMs) + 1_000 : DAY_MS;
  };
  return {
    async take(name, rule, cost = 1): Promise<RateDecision> {
      try {
        const [ok, wait] = (await redis.eval(
          TAKE,
          1,
          key(name),
          rule.burst,
          perMsOf(rule),
          cost,
          Date.now(),
          ttlOf(rule),
        )) as [number, number];
        return ok === 1 ? { ok: true } : { ok: false, retryAfterMs: wait };
      } catch (error) {
        warn("redis: a rate limit could not be checked; letting the request through", error);
        return { ok: true };
      }
    },
    async refund(name, rule, cost = 1) {
      try {
        await redis.eval(REFUND, 1, key(name), rule.burst, cost);
      } catch (error) {
        warn("redis: a rate-limit refund was lost", error);
      }
    },
  };
}
