import { describe, expect, it } from "vitest";
import { sharedFrom, takeForActor } from "../../src/domain/ports/rate-limit.ts";
import { createMemoryRateLimiter } from "../../src/limits/memory.ts";
import { isProtocolError } from "../../src/protocol/errors.ts";
import { dict } from "../../src/shared/dict.ts";
import { KeyedQueue } from "../../src/shared/keyed-queue.ts";
import { mapLimit } from "../../src/shared/map-limit.ts";

describe("token buckets", () => {
  it("allow a burst, then one token per refill interval, and say how long to wait", () => {
    let now = 0;
    const limiter = createMemoryRateLimiter(() => now);
    const rule = { burst: 3, perMinute: 60 };
    for (let i = 0; i < 3; i++) expect(limiter.take("k", rule).ok).toBe(true);
    expect(limiter.take("k", rule)).toEqual({ ok: false, retryAfterMs: 1000 });
    now += 500;
    expect(limiter.take("k", rule)).toEqual({ ok: false, retryAfterMs: 500 });
    now += 500;
    expect(limiter.take("k", rule).ok).toBe(true);
    // Other keys are other buckets.
    expect(limiter.take("other", rule).ok).toBe(true);
    limiter.stop();
  });

  it("a refused address limit gives the user's token back", async () => {
    const local = createMemoryRateLimiter(() => 0);
    const shared = sharedFrom(local);
    const rules = { user: { burst: 2, perMinute: 0 }, address: { burst: 1, perMinute: 0 } };
    const take = async (userId: string) => {
      try {
        await takeForActor(shared, "joins", { userId, address: "10.0.0.1" }, rules);
        return "ok";
      } catch (error) {
        return isProtocolError(error) ? error.code : "other";
      }
    };
    expect(await take("@a:x")).toBe("ok");
    expect(await take("@a:x")).toBe("rate_limited"); // the address is spent; a's second token is kept
    expect((await shared.take("joins:@a:x", rules.user)).ok).toBe(true);
    local.stop();
  });
});

describe("shared helpers", () => {
  it("a keyed queue runs work in order per key and never leaves a rejection unhandled", async () => {
    const queue = new KeyedQueue<string>();
    const order: number[] = [];
    const failing = queue.run("room", async () => {
      order.push(1);
      throw new Error("homeserver said no");
    });
    const next = queue.run("room", async () => {
      order.push(2);
      return "ran anyway";
    });
    await expect(failing).rejects.toThrow("homeserver said no");
    await expect(next).resolves.toBe("ran anyway");
    expect(order).toEqual([1, 2]);
    // A failure nobody awaits stays with its caller: vitest fails the run on an unhandled rejection.
    queue.run("room", async () => Promise.reject(new Error("ignored"))).catch(() => undefined);
    await queue.run("room", async () => undefined);
    await new Promise((resolve) => setImmediate(resolve));
    expect(queue.size).toBe(0);
  });

  it("maps with bounded concurrency, keeping order", async () => {
    let active = 0;
    let peak = 0;
    const result = await mapLimit([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
      active += 1;
      peak = Math.max(peak, active);
      await new Promise((resolve) => setTimeout(resolve, 5));
      active -= 1;
      return n * 2;
    });
    expect(result).toEqual([2, 4, 6, 8, 10, 12, 14]);
    expect(peak).toBe(3);
  });

  it("dictionaries take any key as data", () => {
    const d = dict<number>();
    for (const key of ["__proto__", "constructor", "toString"]) d[key] = 1;
    expect(Object.keys(d).sort()).toEqual(["__proto__", "constructor", "toString"]);
    expect(JSON.parse(JSON.stringify(d))).toEqual(JSON.parse('{"__proto__":1,"constructor":1,"toString":1}'));
  });
});

describe("client addresses", () => {
  it("count IPv4 as is and IPv6 by its /64", async () => {
    const { addressKey } = await import("../../src/gateway/server.ts");
    expect(addressKey("203.0.113.7")).toBe("203.0.113.7");
    expect(addressKey("::ffff:203.0.113.7")).toBe("203.0.113.7");
    expect(addressKey("2001:db8:1:2:aaaa::1")).toBe("2001:db8:1:2::/64");
    expect(addressKey("2001:db8:1:2:bbbb:cccc:dddd:eeee")).toBe("2001:db8:1:2::/64");
    expect(addressKey("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(addressKey("::1")).toBe("0:0:0:0::/64");
  });

  it("believe X-Forwarded-For only from trusted proxies", async () => {
    const { clientAddress, isTrustedProxy } = await import("../../src/gateway/server.ts");
    expect(isTrustedProxy("10.1.2.3", ["10.0.0.0/8"])).toBe(true);
    expect(isTrustedProxy("11.1.2.3", ["10.0.0.0/8"])).toBe(false);
    expect(isTrustedProxy("::ffff:127.0.0.1", ["127.0.0.1"])).toBe(true);
    const request = (peer: string, forwarded?: string) =>
      ({
        socket: { remoteAddress: peer },
        headers: forwarded === undefined ? {} : { "x-forwarded-for": forwarded },
      }) as unknown as import("node:http").IncomingMessage;
    expect(clientAddress(request("127.0.0.1", "1.1.1.1, 203.0.113.9"), ["127.0.0.1"])).toBe("203.0.113.9");
    expect(clientAddress(request("198.51.100.4", "203.0.113.9"), ["127.0.0.1"])).toBe("198.51.100.4");
    expect(clientAddress(request("198.51.100.4"), ["198.51.100.4"])).toBe("198.51.100.4");
  });
});
