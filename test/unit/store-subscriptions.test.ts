// Event subscriptions' queries, against every store adapter: where a new subscription starts, what
// is left to deliver, and cursors that move only from where their writer read them.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Store, SubscriptionRow } from "../../src/domain/ports/store.ts";
import { asChannelName, asMatrixEventId, asRoomId, asUserId } from "../../src/protocol/ids.ts";
import { storeAdapters } from "../support/stores.ts";

const alice = asUserId("@chat_alice:x");
let events = 0;
const log = (store: Store, channelId: number, eventType = "channel.message") =>
  store.appendEvent({
    channelId,
    matrixEventId: asMatrixEventId(`$e${++events}`),
    eventType,
    sender: alice,
    content: { type: "text", body: "hi" },
    ts: 1,
  });
const channel = (store: Store, name: string) =>
  store.insertChannel(asChannelName(name), asRoomId(`!${name}:x`), `#${name}:x`);
const subscription = (id: string, extra: Partial<SubscriptionRow> = {}): SubscriptionRow => ({
  id,
  url: "https://example.org/hook",
  secret: "s3cret",
  channels: null,
  events: null,
  createdAt: 1000,
  createdBy: "key-1",
  ...extra,
});

describe.each(storeAdapters())("$name subscriptions", (adapter) => {
  beforeAll(() => adapter.setup(), 60_000);
  afterEach(() => adapter.closeAll());
  afterAll(() => adapter.teardown());

  it("never follow a private conversation, even when named", async () => {
    const { store } = await adapter.fresh();
    await store.createSubscription(subscription("all"));
    await store.createSubscription(subscription("named", { channels: ["dm.ab", "x.mods", "DM.open"] }));
    const dm = await channel(store, "dm.ab");
    const mods = await channel(store, "x.mods");
    const open = await channel(store, "DM.open");
    for (const c of [dm, mods, open]) await log(store, c.id);
    const backlog = (await store.subscriptionBacklog()).map((row) => [row.subscriptionId, row.channelId]);
    expect(backlog.sort()).toEqual(
      [
        ["all", open.id],
        ["named", open.id],
      ].sort(),
    );
  });

  it("round-trip, list oldest first, and go with their cursors", async () => {
    const { store } = await adapter.fresh();
    const a = await channel(store, "a");
    await store.createSubscription(subscription("s2", { createdAt: 2000 }));
    await store.createSubscription(
      subscription("s1", { channels: ["a", "B"], events: ["channel.message"], url: "http://h/x" }),
    );
    expect(await store.subscriptions()).toEqual([
      subscription("s1", { channels: ["a", "B"], events: ["channel.message"], url: "http://h/x" }),
      subscription("s2", { createdAt: 2000 }),
    ]);
    expect(await store.advanceSubscriptionCursor("s1", a.id, 0, 0)).toBe(true);
    expect(await store.removeSubscription("s1")).toBe(true);
    expect(await store.removeSubscription("s1")).toBe(false);
    expect(await store.subscriptionCursor("s1", a.id)).toBeUndefined();
    expect(await store.advanceSubscriptionCursor("s1", a.id, 0, 1)).toBe(false);
    expect(
      await store.recordSubscriptionFailure("s1", a.id, 0, {
        attempts: 1,
        nextAttemptAt: 5,
        firstFailureAt: 1,
        lastError: "x",
      }),
    ).toBe(false);
    expect((await store.subscriptions()).map((s) => s.id)).toEqual(["s2"]);
  });

  it("start after what is logged; channels made later from their first event", async () => {
    const { store } = await adapter.fresh();
    const a = await channel(store, "a");
    const quiet = await channel(store, "quiet");
    for (let i = 0; i < 3; i++) await log(store, a.id);
    await store.createSubscription(subscription("s"));
    expect(await store.subscriptionCursor("s", a.id)).toMatchObject({
      subscription: subscription("s"),
      channelId: a.id,
      seq: 3,
      attempts: 0,
      nextAttemptAt: 0,
      firstFailureAt: null,
      lastError: null,
    });
    expect((await store.subscriptionCursor("s", quiet.id))?.seq).toBe(0);
    expect(await store.subscriptionBacklog()).toEqual([]);
    const later = await channel(store, "later");
    await log(store, later.id);
    await log(store, a.id);
    expect((await store.subscriptionCursor("s", later.id))?.seq).toBe(0);
    expect(await store.subscriptionBacklog()).toEqual(
      [
        { subscriptionId: "s", channelId: a.id, nextAttemptAt: 0 },
        { subscriptionId: "s", channelId: later.id, nextAttemptAt: 0 },
      ].sort((x, y) => x.channelId - y.channelId),
    );
  });

  it("list only the channels a subscription follows as its backlog", async () => {
    const { store } = await adapter.fresh();
    const a = await channel(store, "a");
    const b = await channel(store, "b");
    await log(store, a.id);
    await store.createSubscription(subscription("only-b", { channels: ["b", "c"] }));
    // Not followed: no cursor was started there, and it never shows as backlog.
    expect((await store.subscriptionCursor("only-b", a.id))?.seq).toBe(0);
    await log(store, a.id);
    expect(await store.subscriptionBacklog()).toEqual([]);
    await log(store, b.id);
    const c = await channel(store, "c");
    await log(store, c.id);
    expect(await store.subscriptionBacklog()).toEqual([
      { subscriptionId: "only-b", channelId: b.id, nextAttemptAt: 0 },
      { subscriptionId: "only-b", channelId: c.id, nextAttemptAt: 0 },
    ]);
  });

  it("move cursors only from where they are, and keep failures until the cursor moves", async () => {
    const { store } = await adapter.fresh();
    const a = await channel(store, "a");
    await store.createSubscription(subscription("s"));
    for (let i = 0; i < 3; i++) await log(store, a.id);
    const failure = { attempts: 1, nextAttemptAt: 2500, firstFailureAt: 1500, lastError: "HTTP 500" };
    expect(await store.recordSubscriptionFailure("s", a.id, 0, failure)).toBe(true);
    expect(await store.recordSubscriptionFailure("s", a.id, 0, { ...failure, attempts: 2 })).toBe(true);
    expect(await store.recordSubscriptionFailure("s", a.id, 1, failure)).toBe(false);
    expect(await store.subscriptionCursor("s", a.id)).toMatchObject({ seq: 0, ...failure, attempts: 2 });
    expect(await store.subscriptionBacklog()).toEqual([
      { subscriptionId: "s", channelId: a.id, nextAttemptAt: 2500 },
    ]);
    // A writer that read an old position changes nothing.
    expect(await store.advanceSubscriptionCursor("s", a.id, 1, 2)).toBe(false);
    expect(await store.advanceSubscriptionCursor("s", a.id, 0, 1)).toBe(true);
    expect(await store.advanceSubscriptionCursor("s", a.id, 0, 1)).toBe(false);
    expect(await store.subscriptionCursor("s", a.id)).toMatchObject({
      seq: 1,
      attempts: 0,
      nextAttemptAt: 0,
      firstFailureAt: null,
      lastError: null,
    });
    expect(await store.advanceSubscriptionCursor("s", a.id, 1, 3)).toBe(true);
    expect(await store.subscriptionBacklog()).toEqual([]);
  });

  it("keep subscriptions and cursors across a reopen", async () => {
    const { store, open } = await adapter.fresh();
    const a = await channel(store, "a");
    await store.createSubscription(subscription("s", { events: ["channel.member"] }));
    await log(store, a.id);
    await store.advanceSubscriptionCursor("s", a.id, 0, 1);
    await store.close();
    const again = await open();
    expect(await again.subscriptionCursor("s", a.id)).toMatchObject({
      seq: 1,
      subscription: subscription("s", { events: ["channel.member"] }),
    });
  });
});
