// Each concern's queries, against every store adapter: the same calls must give the same answers.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { NewEvent, Store } from "../../src/domain/ports/store.ts";
import { asChannelName, asEventSeq, asMatrixEventId, asRoomId, asUserId } from "../../src/protocol/ids.ts";
import { storeAdapters } from "../support/stores.ts";

const alice = asUserId("@chat_alice:x");
const bob = asUserId("@chat_bob:x");
const carol = asUserId("@Carol:x");
const profile = (name: string | null) => ({ display_name: name, avatar_url: null });

const message = (channelId: number, id: string | null, content: unknown, extra: Partial<NewEvent> = {}) => ({
  channelId,
  matrixEventId: id === null ? null : asMatrixEventId(id),
  eventType: "channel.message",
  sender: alice,
  content,
  ts: 7,
  ...extra,
});

async function channel(store: Store, name = "a") {
  return await store.insertChannel(asChannelName(name), asRoomId(`!${name}:x`), `#${name}:x`);
}

describe.each(storeAdapters())("$name queries", (adapter) => {
  beforeAll(() => adapter.setup(), 60_000);
  afterEach(() => adapter.closeAll());
  afterAll(() => adapter.teardown());

  it("channels: state round-trips, joined channels sort bytewise", async () => {
    const { store } = await adapter.fresh();
    const b = await channel(store, "b_x");
    const a = await channel(store, "B");
    await store.setJoinRule(a.id, "invite");
    await store.setTopic(a.id, "hello");
    await store.setPowerLevels(a.id, { users: { [alice]: 100 } });
    expect(await store.channelById(a.id)).toMatchObject({
      joinRule: "invite",
      topic: "hello",
      powerLevels: { users: { [alice]: 100 } },
    });
    expect((await store.channelById(b.id))?.powerLevels).toBeNull();
    expect((await store.allChannels()).map((c) => c.id)).toEqual([b.id, a.id]);
    for (const c of [b, a]) {
      await store.setMember({
        channelId: c.id,
        userId: alice,
        membership: "join",
        profile: profile("A"),
        at: 1,
      });
    }
    expect((await store.channelsJoinedBy(alice)).map((c) => c.name)).toEqual(["B", "b_x"]);
  });

  it("members: upserts keep the latest activity, lists are ordered", async () => {
    const { store } = await adapter.fresh();
    const { id } = await channel(store);
    await store.setMember({
      channelId: id,
      userId: bob,
      membership: "join",
      profile: profile("Bob"),
      at: 10,
    });
    await store.setMember({
      channelId: id,
      userId: alice,
      membership: "join",
      profile: profile("A"),
      at: 10,
    });
    await store.setMember({
      channelId: id,
      userId: carol,
      membership: "invite",
      profile: profile(null),
      at: 5,
    });
    await store.touchMember(id, bob, 50);
    // An older membership change does not move last_seen back.
    await store.setMember({
      channelId: id,
      userId: bob,
      membership: "join",
      profile: profile("Bobby"),
      at: 20,
    });
    expect(await store.member(id, bob)).toEqual({
      userId: bob,
      membership: "join",
      displayName: "Bobby",
      avatarUrl: null,
      updatedAt: 20,
      lastSeen: 50,
    });
    expect((await store.joinedMembers(id)).map((m) => m.userId)).toEqual([alice, bob]);
    expect(await store.joinedCount(id)).toBe(2);
    await store.touchJoinedMember(alice, 60);
    expect((await store.seenMembers(id, 10)).map((m) => m.userId)).toEqual([alice, bob]);
    expect((await store.seenMembers(id, 1)).map((m) => m.userId)).toEqual([alice]);
    expect(await store.lastKnownProfile(bob)).toEqual(profile("Bobby"));
    expect(await store.lastKnownProfile(asUserId("@nobody:x"))).toBeUndefined();
    expect(await store.member(id, asUserId("@nobody:x"))).toBeUndefined();
  });

  it("users: native users once, profiles, puppets", async () => {
    const { store } = await adapter.fresh();
    const first = await store.upsertNativeUser({ userId: alice, localpart: "alice", isGuest: true });
    expect(first).toEqual({
      userId: alice,
      localpart: "alice",
      displayName: null,
      avatarUrl: null,
      isGuest: true,
      matrixDisplayName: null,
    });
    await store.setNativeProfile(alice, { display_name: "Alice", avatar_url: "mxc://x/a" });
    await store.setMatrixDisplayName(alice, "Alice (chat)");
    const again = await store.upsertNativeUser({ userId: alice, localpart: "other", isGuest: false });
    expect(again).toMatchObject({ localpart: "alice", isGuest: true, displayName: "Alice" });
    expect(again.matrixDisplayName).toBe("Alice (chat)");
    expect([...(await store.nativeUsers([alice, bob])).keys()]).toEqual([alice]);
    expect((await store.nativeUsers([])).size).toBe(0);
    expect(await store.isPuppetRegistered(bob)).toBe(false);
    await store.addRegisteredPuppet(bob);
    await store.addRegisteredPuppet(bob);
    expect(await store.isPuppetRegistered(bob)).toBe(true);
  });

  it("events: history goes below the lowest seq, pages run both ways", async () => {
    const { store } = await adapter.fresh();
    const { id } = await channel(store);
    expect((await store.prependEvent(message(id, "$old1", { n: -1 })))?.seq).toBe(0);
    expect((await store.prependEvent(message(id, "$old2", { n: -2 })))?.seq).toBe(-1);
    expect(await store.prependEvent(message(id, "$old1", {}))).toBeUndefined();
    expect(await store.nextSeq(id)).toBe(1);
    const native = await store.appendEvent(message(id, null, { n: 1 }, { replyTo: 0 }));
    expect(native).toMatchObject({ seq: 1, matrixEventId: null, replyTo: 0, replaces: null, edited: false });
    for (const n of [2, 3, 4]) await store.appendEvent(message(id, `$${n}`, { n }));
    const seqs = (events: Array<{ seq: number }>) => events.map((e) => e.seq);
    expect(seqs(await store.eventsBetween(id, {}, 3, true))).toEqual([2, 3, 4]);
    expect(seqs(await store.eventsBetween(id, {}, 3, false))).toEqual([-1, 0, 1]);
    expect(seqs(await store.eventsBetween(id, { after: 0, before: 4 }, 10, false))).toEqual([1, 2, 3]);
    expect(seqs(await store.eventsBetween(id, { before: 2 }, 2, true))).toEqual([0, 1]);
    expect((await store.oldestMirroredEvent(id))?.seq).toBe(-1);
    expect((await store.newestEvent(id))?.content).toEqual({ n: 4 });
    expect(await store.eventBySeq(id, asEventSeq(99))).toBeUndefined();
    expect((await store.eventBySeq(id, asEventSeq(1)))?.sender).toBe(alice);
    await store.setEventMatrixId(id, 1, asMatrixEventId("$mirrored"));
    await store.setEventMatrixId(id, 1, asMatrixEventId("$again"));
    expect((await store.eventByMatrixId(asMatrixEventId("$mirrored")))?.seq).toBe(1);
    expect(await store.newestEvent(9999)).toBeUndefined();
  });

  it("events: edits and deletes rewrite content; media and message lookups", async () => {
    const { store } = await adapter.fresh();
    const { id } = await channel(store);
    expect(await store.latestMessageSeq(id)).toBe(0);
    await store.appendEvent(message(id, "$1", { type: "text", body: "see HTTPS://example.org" }));
    await store.appendEvent(message(id, "$2", { type: "files", files: [] }));
    await store.appendEvent(message(id, "$3", { type: "text", body: "no link" }));
    await store.appendEvent(message(id, "$4", { type: "text", body: "http://x" }, { replaces: 3 }));
    await store.appendEvent({ ...message(id, "$5", {}), eventType: "channel.member" });
    expect((await store.postsWithMedia(id, undefined, 10)).map((e) => e.seq)).toEqual([2, 1]);
    expect((await store.postsWithMedia(id, 2, 10)).map((e) => e.seq)).toEqual([1]);
    expect(await store.latestMessageSeq(id)).toBe(4);
    await store.replaceContent(id, 3, { type: "text", body: "edited" });
    expect(await store.eventBySeq(id, asEventSeq(3))).toMatchObject({
      content: { body: "edited" },
      edited: true,
    });
    await store.deleteContent(id, 3);
    expect(await store.eventBySeq(id, asEventSeq(3))).toMatchObject({
      content: { type: "deleted" },
      edited: true,
    });
    expect(await store.eventBySeq(id, asEventSeq(4))).toMatchObject({
      content: { type: "deleted" },
      edited: false,
    });
    expect((await store.eventBySeq(id, asEventSeq(1)))?.edited).toBe(false);
    // A message to chosen recipients stays theirs when deleted, its edits too.
    await store.deleteContent(id, 1, ["@chat_bob:x"]);
    expect((await store.eventBySeq(id, asEventSeq(1)))?.content).toEqual({
      type: "deleted",
      to: ["@chat_bob:x"],
    });
  });

  it("events: media review holds, marks release once, nsfw comes and goes", async () => {
    const { store } = await adapter.fresh();
    const { id } = await channel(store);
    const files = { type: "files", files: [] };
    const held = await store.appendEvent(message(id, null, files, { pendingReview: true }));
    expect(held).toMatchObject({ seq: 1, pendingReview: true, nsfw: false });
    await store.appendEvent(message(id, "$2", files));
    expect(await store.eventBySeq(id, asEventSeq(1))).toMatchObject({ pendingReview: true, nsfw: false });
    expect(await store.eventBySeq(id, asEventSeq(2))).toMatchObject({ pendingReview: false, nsfw: false });
    // The first mark releases it, with the flag it gives; a second changes the flag only.
    expect(await store.markMedia(id, 1, true)).toBe(true);
    expect(await store.eventBySeq(id, asEventSeq(1))).toMatchObject({ pendingReview: false, nsfw: true });
    expect(await store.markMedia(id, 1, false)).toBe(false);
    expect(await store.eventBySeq(id, asEventSeq(1))).toMatchObject({ pendingReview: false, nsfw: false });
    expect(await store.markMedia(id, 2, true)).toBe(false);
    expect((await store.eventsBetween(id, {}, 10, true)).map((e) => [e.seq, e.nsfw])).toEqual([
      [1, false],
      [2, true],
    ]);
    // Marks made at once: exactly one of them releases the message.
    await store.appendEvent(message(id, null, files, { pendingReview: true }));
    const released = await Promise.all([
      store.transaction(async () => {
        await store.holdChannelLog(id);
        return store.markMedia(id, 3, true);
      }),
      store.transaction(async () => {
        await store.holdChannelLog(id);
        return store.markMedia(id, 3, false);
      }),
    ]);
    expect(released.filter(Boolean)).toHaveLength(1);
  });

  it("events: backfill state and txn ids", async () => {
    const { store } = await adapter.fresh();
    const a = await channel(store, "a");
    const b = await channel(store, "b");
    expect(await store.backfill(a.id)).toEqual({ token: null, done: false });
    await store.setBackfill(a.id, { token: "t1", done: true });
    expect(await store.backfill(a.id)).toEqual({ token: "t1", done: true });
    expect(await store.sentTxn(alice, a.id, "txn")).toBeUndefined();
    expect(await store.recordSentTxn(alice, a.id, "txn", asEventSeq(5))).toBe(true);
    expect(await store.recordSentTxn(alice, a.id, "txn", asEventSeq(6))).toBe(false);
    expect(await store.recordSentTxn(alice, b.id, "txn", asEventSeq(7))).toBe(true);
    expect(await store.sentTxn(alice, a.id, "txn")).toBe(5);
    expect(await store.sentTxn(alice, b.id, "txn")).toBe(7);
  });

  it("reactions: once per user and key, summaries in the order added", async () => {
    const { store } = await adapter.fresh();
    const { id } = await channel(store);
    const react = (userId: typeof alice, reaction: string, matrixEventId: string | null, targetSeq = 1) =>
      store.addReaction({
        channelId: id,
        targetSeq,
        userId,
        reaction,
        matrixEventId: matrixEventId === null ? null : asMatrixEventId(matrixEventId),
      });
    expect(await react(bob, "👍", "$r1")).toBe(true);
    expect(await react(alice, "👍", null)).toBe(true);
    expect(await react(alice, "👍", null)).toBe(false);
    expect(await react(carol, "🎉", "$r1")).toBe(false);
    expect(await react(carol, "🎉", "$r3", 3)).toBe(true);
    expect(await react(carol, "x", "$r4", 2)).toBe(true);
    const summaries = await store.reactionSummaries(id, [1, 3]);
    expect([...summaries.entries()]).toEqual([
      [1, { "👍": [bob, alice] }],
      [3, { "🎉": [carol] }],
    ]);
    expect((await store.reactionSummaries(id, [])).size).toBe(0);
    await store.setReactionOutbox(id, 1, alice, "👍", 42);
    await store.setReactionMatrixId(42, asMatrixEventId("$mirrored"));
    expect(await store.reactionByMatrixId(asMatrixEventId("$mirrored"))).toEqual({
      channelId: id,
      targetSeq: 1,
      userId: alice,
      reaction: "👍",
      matrixEventId: "$mirrored",
      outboxId: 42,
    });
    expect((await store.findReaction(id, 1, bob, "👍"))?.matrixEventId).toBe("$r1");
    expect((await store.removeReaction(id, 1, bob, "👍"))?.matrixEventId).toBe("$r1");
    expect(await store.removeReaction(id, 1, bob, "👍")).toBeUndefined();
    expect(await store.findReaction(id, 1, bob, "👍")).toBeUndefined();
  });

  it("read state: pointers only move forward, notifications count per channel", async () => {
    const { store } = await adapter.fresh();
    const a = await channel(store, "a");
    const b = await channel(store, "b");
    expect(await store.readPointer(alice, a.id)).toBeUndefined();
    expect(await store.advanceReadPointer(alice, a.id, 5, 1)).toBe(true);
    expect(await store.advanceReadPointer(alice, a.id, 3, 2)).toBe(false);
    expect(await store.advanceReadPointer(alice, a.id, 5, 2)).toBe(false);
    expect(await store.advanceReadPointer(alice, a.id, 6, 3)).toBe(true);
    await store.advanceReadPointer(alice, b.id, 1, 3);
    expect(await store.readPointers(alice)).toEqual([
      { channelId: a.id, seq: 6 },
      { channelId: b.id, seq: 1 },
    ]);
    for (const seq of [1, 2, 3]) await store.addNotification(alice, a.id, seq);
    await store.addNotification(alice, a.id, 3);
    await store.addNotification(alice, b.id, 9);
    await store.clearNotifications(alice, a.id, 2);
    expect(await store.notificationCounts(alice)).toEqual([
      { channelId: a.id, count: 1 },
      { channelId: b.id, count: 1 },
    ]);
  });

  it("inbox: status, known events, duplicates within one transaction, pruning", async () => {
    const { store } = await adapter.fresh();
    const { id } = await channel(store);
    expect(
      await store.recordInbox([
        { matrixEventId: "$1", roomId: "!a:x", body: { n: 1 } },
        { matrixEventId: "$1", roomId: "!a:x", body: { n: 2 } },
      ]),
    ).toBe(1);
    expect(await store.recordInbox([])).toBe(0);
    expect((await store.pendingInbox(10)).map((e) => e.body)).toEqual([{ n: 1 }]);
    const waiting = await store.inboxStats();
    expect(waiting.pending).toBe(1);
    expect(waiting.oldestReceivedAt).toBeGreaterThan(0);
    expect(await store.inboxStatus("$1")).toEqual({ status: "pending", note: null });
    await store.finishInbox((await store.pendingInbox(1))[0]?.id ?? -1, "failed", "bad");
    expect(await store.inboxStatus("$1")).toEqual({ status: "failed", note: "bad" });
    expect(await store.inboxStats()).toEqual({ pending: 0, oldestReceivedAt: null });
    expect(await store.inboxStatus("$2")).toBeUndefined();
    await store.appendEvent(message(id, "$logged", {}));
    expect(await store.isKnownEvent("$1")).toBe(true);
    expect(await store.isKnownEvent("$logged")).toBe(true);
    expect(await store.isKnownEvent("$2")).toBe(false);
    await store.recordSentTxn(alice, id, "t", asEventSeq(1));
    const outbox = await store.enqueueOutbox({
      channelId: id,
      seq: 1,
      kind: "message",
      actor: alice,
      payload: {},
      createdAt: 1,
    });
    await store.finishOutbox(outbox, "done", null, null, 1);
    expect(await store.pruneBefore(0)).toBe(0);
    expect(await store.pruneBefore(Date.now() + 1000)).toBe(3);
    expect(await store.isKnownEvent("$1")).toBe(false);
  });

  it("outbox: per channel in order, attempts, finished once, stats", async () => {
    const { store } = await adapter.fresh();
    const a = await channel(store, "a");
    const b = await channel(store, "b");
    expect(await store.outboxStats()).toEqual({ pending: 0, oldestCreatedAt: null });
    const entry = (channelId: number, kind: "message" | "react", createdAt: number) =>
      store.enqueueOutbox({ channelId, seq: null, kind, actor: null, payload: { createdAt }, createdAt });
    const first = await entry(b.id, "message", 10);
    const second = await entry(a.id, "react", 20);
    const third = await entry(b.id, "react", 30);
    expect(second).toBeGreaterThan(first);
    expect(await store.outboxChannels()).toEqual([a.id, b.id]);
    expect((await store.nextOutboxEntry(b.id))?.id).toBe(first);
    expect((await store.pendingOutbox(b.id, "react")).map((e) => e.id)).toEqual([third]);
    await store.recordOutboxAttempt(first, 100, "busy", 200);
    await store.recordOutboxAttempt(first, 150, "still busy", 300);
    expect(await store.outboxEntry(first)).toMatchObject({
      state: "pending",
      attempts: 2,
      firstAttemptAt: 100,
      nextAttemptAt: 300,
      lastError: "still busy",
      payload: { createdAt: 10 },
      actor: null,
    });
    await store.finishOutbox(first, "done", asMatrixEventId("$m"), null, 400);
    await store.finishOutbox(first, "refused", asMatrixEventId("$other"), "late", 500);
    expect(await store.outboxEntry(first)).toMatchObject({
      state: "done",
      matrixEventId: "$m",
      lastError: "still busy",
    });
    expect((await store.nextOutboxEntry(b.id))?.id).toBe(third);
    expect(await store.outboxStats()).toEqual({ pending: 2, oldestCreatedAt: 20 });
    expect(await store.outboxEntry(9999)).toBeUndefined();
  });

  it("leases: one holder at a time until it runs out; renewals and releases by the holder only", async () => {
    const { store } = await adapter.fresh();
    expect(await store.acquireLease("outbox:1", "node-a", 1000, 0)).toBe(true);
    expect(await store.acquireLease("outbox:1", "node-b", 1000, 500)).toBe(false);
    expect(await store.acquireLease("outbox:1", "node-a", 1000, 900)).toBe(true);
    expect(await store.acquireLease("outbox:1", "node-b", 1000, 1500)).toBe(false);
    await store.releaseLease("outbox:1", "node-b");
    expect(await store.acquireLease("outbox:1", "node-b", 1000, 1500)).toBe(false);
    expect(await store.acquireLease("outbox:1", "node-b", 1000, 2000)).toBe(true);
    await store.releaseLease("outbox:1", "node-b");
    expect(await store.acquireLease("outbox:1", "node-a", 1000, 2000)).toBe(true);
    const racers = await Promise.all(
      ["x", "y", "z"].map((holder) => store.acquireLease("inbox", holder, 1000, 0)),
    );
    expect(racers.filter(Boolean)).toHaveLength(1);
  });
});
