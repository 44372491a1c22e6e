// Event subscriptions: each matching logged event POSTed to a real local receiver, signed, per
// channel in order, at least once (the same delivery id on every attempt), with back-off while
// the receiver fails, without one subscriber holding up another, and none lost across a restart.
import { createHmac } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { asChannelName } from "../../src/protocol/ids.ts";
import { openSqliteStore } from "../../src/store/sqlite/store.ts";
import { bodyOf } from "../support/client.ts";
import { type Middle, startMiddle } from "../support/middle.ts";
import { unique } from "../support/parley.ts";
import { type Received, Receiver } from "../support/receiver.ts";
import { startRedis } from "../support/redis.ts";

let m: Middle;
let receiver: Receiver;
beforeAll(async () => {
  m = await startMiddle();
  receiver = await Receiver.start();
});
afterAll(async () => {
  await m?.stop();
  await receiver?.down();
});

type Event = Record<string, unknown>;
const eventOf = (r: Received) => r.body.event as Event;
/** The first delivery of each event, in the order they came. */
const firstOfEach = (received: Received[]) => {
  const seen = new Set<unknown>();
  return received.filter((r) => {
    const id = r.headers["x-parley-delivery"];
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
};
/** Polls until `done` answers true (or fails after 10 s with `what`). */
async function eventually(done: () => Promise<boolean>, what: string) {
  const deadline = Date.now() + 10_000;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
const channelIdOf = async (on: Middle, channel: string) =>
  (await on.store.channelByName(asChannelName(channel)))?.id ?? -1;
const hasBody = (path: string, body: string, on = receiver) =>
  on.of(path).some((r) => bodyOf(eventOf(r)) === body);

async function subscribe(
  on: Middle,
  path: string,
  filters: { channels?: string[]; events?: string[] } = {},
  to = receiver,
) {
  return await on.services.subscriptions.create({ url: to.url(path), ...filters, createdBy: "test" });
}

describe("deliveries", () => {
  it("are signed with the subscription's secret, in order per channel, from after the subscription was made", async () => {
    const channel = unique("signed");
    const alice = await m.login(unique("alice"), "Alice");
    await alice.ok("chat.join", { channel });
    await alice.say(channel, "before");
    const path = `/${unique("signed")}`;
    const sub = await subscribe(m, path, { channels: [channel] });
    expect(sub).toMatchObject({ url: receiver.url(path), channels: [channel], events: null });
    expect(sub.secret).toMatch(/^[0-9a-f]{64}$/);
    for (let i = 0; i < 20; i++) await alice.say(channel, `m${i}`);
    await receiver.until(() => hasBody(path, "m19"), "m19");

    const got = receiver.of(path);
    expect(got.map((r) => bodyOf(eventOf(r)))).toEqual(Array.from({ length: 20 }, (_, i) => `m${i}`));
    const ids = got.map((r) => eventOf(r).event_id as number);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    for (const r of got) {
      // What a receiver does, in three lines of node:crypto.
      const expected = createHmac("sha256", sub.secret).update(r.raw).digest("hex");
      const signature = String(r.headers["x-parley-signature"]);
      expect(signature).toBe(`sha256=${expected}`);

      expect(r.headers["content-type"]).toBe("application/json");
      expect(r.headers["x-parley-delivery"]).toMatch(
        /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
      );
      expect(r.body).toEqual({ id: r.headers["x-parley-delivery"], subscription: sub.id, event: eventOf(r) });
      expect(eventOf(r)).toMatchObject({
        channel,
        event_type: "channel.message",
        sender: expect.any(String),
      });
    }
    // As chat.event pushes it.
    const pushed = alice.events(channel).find((e) => bodyOf(e) === "m3");
    expect(got.map(eventOf).find((e) => bodyOf(e) === "m3")).toEqual(pushed);
    expect(new Set(got.map((r) => r.headers["x-parley-delivery"])).size).toBe(20);
    expect(await m.services.subscriptions.remove(sub.id)).toBe(true);
  });

  it("follow the channels and event types asked for; a channel made later from its first event", async () => {
    const [one, two] = [unique("one"), unique("two")];
    const alice = await m.login(unique("alice"), "Alice");
    const bob = await m.login(unique("bob"), "Bob");
    await alice.ok("chat.join", { channel: one });
    const [messagesOfOne, allOfTwo] = [`/${unique("m1")}`, `/${unique("a2")}`];
    const subOne = await subscribe(m, messagesOfOne, { channels: [one], events: ["channel.message"] });
    // `two` does not exist yet.
    const subTwo = await subscribe(m, allOfTwo, { channels: [two] });

    await bob.ok("chat.join", { channel: one });
    const first = await alice.say(one, "hello one");
    await bob.ok("chat.react", { channel: one, event: first.event_id, reaction: "👍" });
    await alice.ok("chat.join", { channel: two });
    await alice.say(two, "hello two");
    await bob.ok("chat.join", { channel: two });
    // Per channel in order: once the last one is there, everything before it was passed.
    await alice.say(one, "last one");
    await alice.say(two, "last two");
    await receiver.until(() => hasBody(messagesOfOne, "last one") && hasBody(allOfTwo, "last two"), "both");

    expect(receiver.of(messagesOfOne).map((r) => [eventOf(r).channel, bodyOf(eventOf(r))])).toEqual([
      [one, "hello one"],
      [one, "last one"],
    ]);
    const ofTwo = receiver.of(allOfTwo).map(eventOf);
    expect(ofTwo.map((e) => [e.channel, e.event_type, e.event_id])).toEqual([
      [two, "channel.member", 1],
      [two, "channel.message", 2],
      [two, "channel.member", 3],
      [two, "channel.message", 4],
    ]);
    for (const sub of [subOne, subTwo]) await m.services.subscriptions.remove(sub.id);
  });

  it("are made again, with the same delivery id, until the receiver answers 2xx in time", async () => {
    const channel = unique("retry");
    const alice = await m.login(unique("alice"), "Alice");
    await alice.ok("chat.join", { channel });
    const path = `/${unique("retry")}`;
    // 500, then no answer within the timeout, then a redirect (not followed), then 200.
    receiver.answer(path, (n) => [500, "hang" as const, 302][n] ?? 200);
    const sub = await subscribe(m, path, { channels: [channel] });
    await alice.say(channel, "r1");
    await alice.say(channel, "r2");
    await receiver.until(() => hasBody(path, "r2"), "r2");

    const got = receiver.of(path);
    expect(got.map((r) => bodyOf(eventOf(r)))).toEqual(["r1", "r1", "r1", "r1", "r2"]);
    const [a, b, c, d] = got;
    expect(b?.abandoned).toBe(true);
    for (const again of [b, c, d]) {
      expect(again?.headers["x-parley-delivery"]).toBe(a?.headers["x-parley-delivery"]);
      expect(again?.raw).toBe(a?.raw);
    }
    // Delivered: the cursor moves on and the retry state is cleared.
    const channelId = await channelIdOf(m, channel);
    const last = eventOf(got.at(-1) as Received).event_id as number;
    await eventually(
      async () => (await m.store.subscriptionCursor(sub.id, channelId))?.seq === last,
      "r2 passed",
    );
    expect(await m.store.subscriptionCursor(sub.id, channelId)).toMatchObject({
      attempts: 0,
      firstFailureAt: null,
      lastError: null,
    });
    await m.services.subscriptions.remove(sub.id);
  });

  it("pass over an event that failed for longer than give_up_after_hours, and go on", async () => {
    const channel = unique("giveup");
    const alice = await m.login(unique("alice"), "Alice");
    await alice.ok("chat.join", { channel });
    const path = `/${unique("giveup")}`;
    receiver.answer(path, (n) => (n < 2 ? 500 : 200));
    const sub = await subscribe(m, path, { channels: [channel] });
    const channelId = await channelIdOf(m, channel);
    await alice.say(channel, "doomed");
    await eventually(
      async () => ((await m.store.subscriptionCursor(sub.id, channelId))?.attempts ?? 0) > 0,
      "the first failure",
    );
    const cursor = await m.store.subscriptionCursor(sub.id, channelId);
    // It has been failing for 73 hours (the default gives up after 72).
    await m.store.recordSubscriptionFailure(sub.id, channelId, cursor?.seq ?? 0, {
      attempts: 500,
      nextAttemptAt: 0,
      firstFailureAt: Date.now() - 73 * 3_600_000,
      lastError: "HTTP 500",
    });
    await alice.say(channel, "after");
    await receiver.until(() => hasBody(path, "after"), "after");
    expect(receiver.of(path).map((r) => bodyOf(eventOf(r)))).toEqual(["doomed", "doomed", "after"]);
    await m.services.subscriptions.remove(sub.id);
  });

  it("refuse URLs that are not http(s), and bad filters, changing nothing", async () => {
    const before = await m.services.subscriptions.list();
    for (const [request, fields] of [
      [{ url: "ftp://example.org/x" }, ["url"]],
      [{ url: "javascript:alert(1)" }, ["url"]],
      [{ url: "not a url" }, ["url"]],
      [{ url: "https://user:password@example.org/x" }, ["url"]],
      [{ url: "http://example.org/", channels: ["no spaces"] }, ["channels.0"]],
      [{ url: "http://example.org/", events: ["channel.typing"] }, ["events.0"]],
      [{ url: "http://example.org/", channels: [] }, ["channels"]],
    ] as const) {
      const refused = await m.services.subscriptions
        .create({ ...(request as { url: string }), createdBy: "test" })
        .then(
          () => undefined,
          (error: unknown) => error,
        );
      expect(refused).toMatchObject({ code: "protocol.invalid_payload", details: { fields } });
    }
    expect(await m.services.subscriptions.list()).toEqual(before);
  });

  it("are listed without their secret, and removed once", async () => {
    const sub = await subscribe(m, "/listed", { events: ["channel.member"] });
    const listed = (await m.services.subscriptions.list()).find((s) => s.id === sub.id);
    expect(listed).toEqual({
      id: sub.id,
      url: receiver.url("/listed"),
      channels: null,
      events: ["channel.member"],
      created_at: sub.created_at,
      created_by: "test",
    });
    expect(await m.services.subscriptions.remove(sub.id)).toBe(true);
    expect(await m.services.subscriptions.remove(sub.id)).toBe(false);
    expect(await m.services.subscriptions.remove("no-such-id")).toBe(false);
    expect((await m.services.subscriptions.list()).map((s) => s.id)).not.toContain(sub.id);
  });
});

describe("a subscriber that does not answer", () => {
  // No timeout strikes during these tests: what hangs stays in flight.
  let slow: Middle;
  beforeAll(async () => {
    slow = await startMiddle({ subscriptions: { timeout_ms: 60_000, concurrency: 4 } });
  });
  afterAll(async () => {
    await slow?.stop();
  });

  it("holds up no other subscription, even with deliveries in flight in every channel", async () => {
    const channels = [0, 1, 2, 3, 4].map(() => unique("slow"));
    const alice = await slow.login(unique("alice"), "Alice");
    for (const channel of channels) await alice.ok("chat.join", { channel });
    const [hanging, fine] = [`/${unique("hanging")}`, `/${unique("fine")}`];
    receiver.answer(hanging, () => "hang");
    const stuck = await subscribe(slow, hanging, { channels });
    const ok = await subscribe(slow, fine, { channels });
    for (const channel of channels) for (let i = 0; i < 3; i++) await alice.say(channel, `${channel} ${i}`);
    await receiver.until(
      () => channels.every((channel) => hasBody(fine, `${channel} 2`)),
      "every message at the fine subscriber",
    );
    expect(receiver.of(fine)).toHaveLength(15);
    // The hanging one holds at most its share of the deliveries in flight (a quarter of 4).
    expect(receiver.of(hanging)).toHaveLength(1);
    expect(receiver.of(hanging)[0]?.abandoned).toBe(false);
    for (const sub of [stuck, ok]) await slow.services.subscriptions.remove(sub.id);
  });

  it("is removed at once: its delivery in flight is abandoned and nothing more is posted", async () => {
    const channel = unique("removed");
    const alice = await slow.login(unique("alice"), "Alice");
    await alice.ok("chat.join", { channel });
    const [hanging, witness] = [`/${unique("gone")}`, `/${unique("witness")}`];
    receiver.answer(hanging, () => "hang");
    const gone = await subscribe(slow, hanging, { channels: [channel] });
    const other = await subscribe(slow, witness, { channels: [channel] });
    await alice.say(channel, "first");
    await receiver.until(() => receiver.of(hanging).length === 1, "the first delivery");
    expect(await slow.services.subscriptions.remove(gone.id)).toBe(true);
    await receiver.until(() => receiver.of(hanging)[0]?.abandoned === true, "the delivery abandoned");
    for (let i = 0; i < 3; i++) await alice.say(channel, `later ${i}`);
    await receiver.until(() => hasBody(witness, "later 2"), "the witness");
    expect(receiver.of(hanging)).toHaveLength(1);
    await slow.services.subscriptions.remove(other.id);
  });
});

describe("a restart", () => {
  it("loses nothing: what the receiver missed while Parley stopped arrives after it starts again", async () => {
    const dir = mkdtempSync(join(tmpdir(), "parley-subs-"));
    const file = join(dir, "parley.db");
    const down = await Receiver.start();
    try {
      let store = openSqliteStore(file);
      let node = await startMiddle({ store });
      const channel = unique("restart");
      const alice = await node.login(unique("alice"), "Alice");
      await alice.ok("chat.join", { channel });
      const sub = await subscribe(node, "/r", { channels: [channel] }, down);
      await down.down();
      const said: string[] = [];
      for (let i = 0; i < 5; i++) said.push(bodyOf(await alice.say(channel, `r${i}`)) ?? "");
      const channelId = await channelIdOf(node, channel);
      // It failed at least once and waits for its next attempt, in the store.
      await eventually(
        async () => ((await store.subscriptionCursor(sub.id, channelId))?.attempts ?? 0) > 0,
        "a failed attempt",
      );
      await node.settle();
      await node.stop();
      await store.close();

      store = openSqliteStore(file);
      node = await startMiddle({ store });
      try {
        await down.up();
        await down.until(() => hasBody("/r", "r4", down), "r4 after the restart");
        const got = firstOfEach(down.of("/r")).map((r) => eventOf(r));
        expect(got.map(bodyOf)).toEqual(said);
        expect(got.every((e) => e.channel === channel)).toBe(true);
        for (const r of down.of("/r")) {
          expect(r.headers["x-parley-signature"]).toBe(
            `sha256=${createHmac("sha256", sub.secret).update(r.raw).digest("hex")}`,
          );
        }
      } finally {
        await node.stop();
        await store.close();
      }
    } finally {
      await down.down().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("two nodes", () => {
  it("deliver each event once, whichever node logged it; a subscription made or removed on the other node counts at once", async () => {
    const redis = await startRedis();
    const store = openSqliteStore(":memory:");
    // No scan and no timeout strikes during the test: only the nodes' notices spread changes.
    const subscriptions = { scan_interval_ms: 600_000, timeout_ms: 60_000 };
    const a = await startMiddle({ store, subscriptions, cluster: { redisUrl: redis.url, nodeId: "node-a" } });
    const b = await startMiddle({
      store,
      subscriptions,
      fake: a.fake,
      cluster: { redisUrl: redis.url, nodeId: "node-b" },
    });
    try {
      const channel = unique("two");
      const alice = await a.login(unique("alice"), "Alice");
      const bob = await b.login(unique("bob"), "Bob");
      await alice.ok("chat.join", { channel });
      await bob.ok("chat.join", { channel });
      const [path, hanging] = [`/${unique("nodes")}`, `/${unique("hang")}`];
      receiver.answer(hanging, () => "hang");
      // Made on node B; node A, which started first, holds the lease and delivers.
      const sub = await subscribe(b, path, { channels: [channel], events: ["channel.message"] });
      const gone = await subscribe(b, hanging, { channels: [channel] });
      const said: string[] = [];
      for (let i = 0; i < 6; i++) {
        const who = i % 2 === 0 ? alice : bob;
        said.push(bodyOf(await who.say(channel, `n${i}`)) ?? "");
      }
      await receiver.until(() => hasBody(path, "n5"), "n5");
      await a.settle();
      await b.settle();
      expect(receiver.of(path).map((r) => bodyOf(eventOf(r)))).toEqual(said);

      await receiver.until(() => receiver.of(hanging).length === 1, "the hanging delivery");
      expect(await b.services.subscriptions.remove(gone.id)).toBe(true);
      await receiver.until(() => receiver.of(hanging)[0]?.abandoned === true, "the delivery abandoned");
      await alice.say(channel, "after");
      await receiver.until(() => hasBody(path, "after"), "after");
      expect(receiver.of(hanging)).toHaveLength(1);
      await b.services.subscriptions.remove(sub.id);
    } finally {
      await b.stop();
      await a.stop();
      await store.close();
      await redis.stop();
    }
  }, 30_000);
});
