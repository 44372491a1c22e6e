// The SDK's pure parts: backoff delays and exactly-once, in-order delivery per channel.
import { describe, expect, it } from "vitest";
import { backoffDelay } from "../../../packages/client/src/backoff.ts";
import { ChannelStream } from "../../../packages/client/src/channel-stream.ts";
import type { ChatEvent } from "../../../packages/client/src/types.ts";

const ev = (id: number): ChatEvent => ({
  channel: "c",
  event_type: "channel.message",
  content: { type: "text", body: `m${id}` },
  event_id: id,
  ts: id,
});
const ids = (events: ChatEvent[]) => events.map((e) => e.event_id);

describe("backoffDelay", () => {
  it("doubles from the initial delay up to the cap, with half of it random", () => {
    const options = { initialDelayMs: 500, maxDelayMs: 8_000 };
    expect([0, 1, 2, 3, 4, 5, 10].map((n) => backoffDelay(n, 0, options))).toEqual([
      250, 500, 1000, 2000, 4000, 4000, 4000,
    ]);
    expect([0, 1, 2, 3, 4, 5].map((n) => backoffDelay(n, 0.999999, options))).toEqual([
      500, 1000, 2000, 4000, 8000, 8000,
    ]);
    for (let attempt = 0; attempt < 12; attempt++) {
      const cap = Math.min(8_000, 500 * 2 ** attempt);
      const delay = backoffDelay(attempt, Math.random(), options);
      expect(delay).toBeGreaterThanOrEqual(cap / 2);
      expect(delay).toBeLessThanOrEqual(cap);
    }
  });
});

describe("ChannelStream", () => {
  it("delivers each event once, in order, dropping what it already delivered", () => {
    const stream = new ChannelStream(4);
    expect(ids(stream.accept([ev(5)]))).toEqual([5]);
    expect(ids(stream.accept([ev(5), ev(3)]))).toEqual([]);
    expect(ids(stream.accept([ev(7), ev(6)]))).toEqual([6, 7]);
    expect(stream.last).toBe(7);
  });

  it("holds pushes while a gap is fetched, then releases only what the fetch did not cover", () => {
    const stream = new ChannelStream(10);
    stream.beginRecovery();
    expect(stream.accept([ev(14)])).toEqual([]); // a push during recovery waits
    expect(stream.accept([ev(15)])).toEqual([]);
    expect(ids(stream.accept([ev(11), ev(12), ev(13), ev(14)], true))).toEqual([11, 12, 13, 14]);
    expect(ids(stream.endRecovery())).toEqual([15]);
    expect(stream.recovering).toBe(false);
    expect(ids(stream.accept([ev(16)]))).toEqual([16]);
  });

  it("starts from the first event when it has no position", () => {
    const stream = new ChannelStream();
    expect(ids(stream.accept([ev(2), ev(1)]))).toEqual([1, 2]);
  });
});
