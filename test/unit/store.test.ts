import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { asChannelName, asMatrixEventId, asRoomId, asUserId } from "../../src/protocol/ids.ts";
import { loadMigrations, migrate } from "../../src/store/sqlite/migrate.ts";
import { openSqliteStore } from "../../src/store/sqlite/store.ts";

const alice = asUserId("@chat_alice:example.org");
const newEvent = (channelId: number, id: string, body = id) => ({
  channelId,
  matrixEventId: asMatrixEventId(id),
  eventType: "channel.message",
  sender: alice,
  content: { type: "text", body },
  ts: 1,
});

describe("migrations", () => {
  it("are numbered, each with a why, and apply once", () => {
    const migrations = loadMigrations();
    expect(migrations.map((m) => m.version)).toEqual(migrations.map((_, i) => i + 1));
    for (const m of migrations) expect(m.sql).toMatch(/^-- why: /);
    const db = new Database(":memory:");
    expect(migrate(db)).toEqual(migrations.map((m) => m.version));
    expect(migrate(db)).toEqual([]);
  });
});

describe("the SQLite store", () => {
  it("maps channels to rooms once", () => {
    const store = openSqliteStore(":memory:");
    const first = store.insertChannel(asChannelName("room_0"), asRoomId("!a:x"), "#chat_room_0:x");
    const again = store.insertChannel(asChannelName("room_0"), asRoomId("!b:x"), "#chat_room_0:x");
    expect(again).toEqual(first);
    expect(store.channelByRoom(asRoomId("!a:x"))?.name).toBe("room_0");
    expect(store.channelByRoom(asRoomId("!b:x"))).toBeUndefined();
  });

  it("gives each channel its own increasing event ids and logs a Matrix event once", () => {
    const store = openSqliteStore(":memory:");
    const a = store.insertChannel(asChannelName("a"), asRoomId("!a:x"), "#a");
    const b = store.insertChannel(asChannelName("b"), asRoomId("!b:x"), "#b");
    expect(store.nextSeq(a.id)).toBe(1);
    expect(store.appendEvent(newEvent(a.id, "$1"))?.seq).toBe(1);
    expect(store.appendEvent(newEvent(a.id, "$2"))?.seq).toBe(2);
    expect(store.appendEvent(newEvent(b.id, "$3"))?.seq).toBe(1);
    expect(store.appendEvent(newEvent(a.id, "$1", "again"))).toBeUndefined();
    expect(store.eventByMatrixId(asMatrixEventId("$1"))?.content).toEqual({ type: "text", body: "$1" });
    expect(store.nextSeq(a.id)).toBe(3);
  });

  it("keeps everything across a reopen", () => {
    const path = join(mkdtempSync(join(tmpdir(), "parley-store-")), "p.db");
    const store = openSqliteStore(path);
    const channel = store.insertChannel(asChannelName("a"), asRoomId("!a:x"), "#a");
    store.appendEvent(newEvent(channel.id, "$1"));
    store.upsertNativeUser({ userId: alice, localpart: "alice", isGuest: false });
    store.setNativeProfile(alice, { display_name: "Alice", avatar_url: null });
    store.setMember({
      channelId: channel.id,
      userId: alice,
      membership: "join",
      profile: { display_name: "Alice", avatar_url: null },
      at: 5,
    });
    store.addRegisteredPuppet(alice);
    store.close();
    const reopened = openSqliteStore(path);
    expect(reopened.channelByName(asChannelName("a"))?.roomId).toBe("!a:x");
    expect(reopened.nextSeq(channel.id)).toBe(2);
    expect(reopened.nativeUser(alice)?.displayName).toBe("Alice");
    expect(reopened.joinedMembers(channel.id).map((m) => m.userId)).toEqual([alice]);
    expect(reopened.channelsJoinedBy(alice).map((c) => c.name)).toEqual(["a"]);
    expect(reopened.isPuppetRegistered(alice)).toBe(true);
    reopened.close();
  });

  it("records inbox events once by event id and hands out pending ones in order", () => {
    const store = openSqliteStore(":memory:");
    expect(
      store.recordInbox([
        { matrixEventId: "$1", roomId: "!r", body: { n: 1 } },
        { matrixEventId: "$2", roomId: "!r", body: { n: 2 } },
      ]),
    ).toBe(2);
    expect(store.recordInbox([{ matrixEventId: "$1", roomId: "!r", body: { n: 1 } }])).toBe(0);
    const pending = store.pendingInbox(10);
    expect(pending.map((e) => e.body)).toEqual([{ n: 1 }, { n: 2 }]);
    store.finishInbox(pending[0]?.id ?? -1, "done");
    store.finishInbox(pending[1]?.id ?? -1, "skipped", "why");
    expect(store.pendingInbox(10)).toEqual([]);
    // Finished events are still remembered: a replay does not bring them back.
    expect(store.recordInbox([{ matrixEventId: "$2", roomId: "!r", body: {} }])).toBe(0);
  });
});
