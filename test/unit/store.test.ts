import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { asChannelName, asMatrixEventId, asRoomId, asUserId } from "../../src/protocol/ids.ts";
import { SchemaTooNewError } from "../../src/store/migration-files.ts";
import { loadMigrations, migrate } from "../../src/store/sqlite/migrate.ts";
import { openSqliteStore } from "../../src/store/sqlite/store.ts";
import { storeAdapters } from "../support/stores.ts";

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

  it("refuse a database a newer Parley migrated further, and leave it as it was", () => {
    const migrations = loadMigrations();
    const db = new Database(":memory:");
    migrate(db);
    const newest = migrations.at(-1)?.version ?? 0;
    const newer = newest + 1;
    db.pragma(`user_version = ${newer}`);
    expect(() => migrate(db)).toThrow(SchemaTooNewError);
    expect(() => migrate(db)).toThrow(
      `the database has schema migration ${newer}, and this Parley knows migrations up to ${newest}`,
    );
    expect(db.pragma("user_version", { simple: true })).toBe(newer);

    // Opening the store says the same, and lets go of the file.
    const path = join(mkdtempSync(join(tmpdir(), "parley-schema-")), "parley.db");
    const file = new Database(path);
    file.pragma(`user_version = ${newer}`);
    file.close();
    expect(() => openSqliteStore(path)).toThrow(SchemaTooNewError);
    rmSync(path);
  });
});

describe.each(storeAdapters())("the $name store", (adapter) => {
  beforeAll(() => adapter.setup(), 60_000);
  afterEach(() => adapter.closeAll());
  afterAll(() => adapter.teardown());

  it("maps channels to rooms once", async () => {
    const { store } = await adapter.fresh();
    const first = await store.insertChannel(asChannelName("room_0"), asRoomId("!a:x"), "#chat_room_0:x");
    const again = await store.insertChannel(asChannelName("room_0"), asRoomId("!b:x"), "#chat_room_0:x");
    expect(again).toEqual(first);
    expect((await store.channelByRoom(asRoomId("!a:x")))?.name).toBe("room_0");
    expect(await store.channelByRoom(asRoomId("!b:x"))).toBeUndefined();
  });

  it("gives each channel its own increasing event ids and logs a Matrix event once", async () => {
    const { store } = await adapter.fresh();
    const a = await store.insertChannel(asChannelName("a"), asRoomId("!a:x"), "#a");
    const b = await store.insertChannel(asChannelName("b"), asRoomId("!b:x"), "#b");
    expect(await store.nextSeq(a.id)).toBe(1);
    expect((await store.appendEvent(newEvent(a.id, "$1")))?.seq).toBe(1);
    expect((await store.appendEvent(newEvent(a.id, "$2")))?.seq).toBe(2);
    expect((await store.appendEvent(newEvent(b.id, "$3")))?.seq).toBe(1);
    expect(await store.appendEvent(newEvent(a.id, "$1", "again"))).toBeUndefined();
    expect((await store.eventByMatrixId(asMatrixEventId("$1")))?.content).toEqual({
      type: "text",
      body: "$1",
    });
    expect(await store.nextSeq(a.id)).toBe(3);
    // The duplicate took no seq.
    expect((await store.appendEvent(newEvent(a.id, "$4")))?.seq).toBe(3);
  });

  it("keeps everything across a reopen", async () => {
    const { store, open } = await adapter.fresh();
    const channel = await store.insertChannel(asChannelName("a"), asRoomId("!a:x"), "#a");
    await store.appendEvent(newEvent(channel.id, "$1"));
    await store.upsertNativeUser({ userId: alice, localpart: "alice", isGuest: false });
    await store.setNativeProfile(alice, { display_name: "Alice", avatar_url: null });
    await store.setMember({
      channelId: channel.id,
      userId: alice,
      membership: "join",
      profile: { display_name: "Alice", avatar_url: null },
      at: 5,
    });
    await store.addRegisteredPuppet(alice);
    await store.close();
    const reopened = await open();
    expect(reopened.instanceId).toBe(store.instanceId);
    expect(reopened.instanceId).toMatch(/^[0-9a-f]{16}$/);
    expect((await reopened.channelByName(asChannelName("a")))?.roomId).toBe("!a:x");
    expect(await reopened.nextSeq(channel.id)).toBe(2);
    expect((await reopened.nativeUser(alice))?.displayName).toBe("Alice");
    expect((await reopened.joinedMembers(channel.id)).map((m) => m.userId)).toEqual([alice]);
    expect((await reopened.channelsJoinedBy(alice)).map((c) => c.name)).toEqual(["a"]);
    expect(await reopened.isPuppetRegistered(alice)).toBe(true);
  });

  it("records inbox events once by event id and hands out pending ones in order", async () => {
    const { store } = await adapter.fresh();
    expect(
      await store.recordInbox([
        { matrixEventId: "$1", roomId: "!r", body: { n: 1 } },
        { matrixEventId: "$2", roomId: "!r", body: { n: 2 } },
      ]),
    ).toBe(2);
    expect(await store.recordInbox([{ matrixEventId: "$1", roomId: "!r", body: { n: 1 } }])).toBe(0);
    const pending = await store.pendingInbox(10);
    expect(pending.map((e) => e.body)).toEqual([{ n: 1 }, { n: 2 }]);
    await store.finishInbox(pending[0]?.id ?? -1, "done");
    await store.finishInbox(pending[1]?.id ?? -1, "skipped", "why");
    expect(await store.pendingInbox(10)).toEqual([]);
    // Finished events are still remembered: a replay does not bring them back.
    expect(await store.recordInbox([{ matrixEventId: "$2", roomId: "!r", body: {} }])).toBe(0);
  });

  describe("transactions", () => {
    const settle = () => new Promise((resolve) => setImmediate(resolve));

    it("keep outsiders out while open: a write from elsewhere is not rolled back with it", async () => {
      const { store } = await adapter.fresh();
      const channel = await store.insertChannel(asChannelName("a"), asRoomId("!a:x"), "#a");
      let opened!: () => void;
      const open = new Promise<void>((resolve) => {
        opened = resolve;
      });
      const transaction = store.transaction(async () => {
        await store.appendEvent(newEvent(channel.id, "$inside"));
        opened();
        await settle();
        await settle();
        throw new Error("roll back");
      });
      await open;
      // Started while the transaction is open, from outside it: it waits for the end.
      const outsider = store.appendEvent(newEvent(channel.id, "$outside"));
      await expect(transaction).rejects.toThrow("roll back");
      await outsider;
      expect(await store.eventByMatrixId(asMatrixEventId("$inside"))).toBeUndefined();
      expect((await store.eventByMatrixId(asMatrixEventId("$outside")))?.seq).toBe(1);
    });

    it("turn a nested transaction into a savepoint, and run after-commit work in commit order", async () => {
      const { store } = await adapter.fresh();
      const channel = await store.insertChannel(asChannelName("a"), asRoomId("!a:x"), "#a");
      const ran: string[] = [];
      await store.transaction(async () => {
        await store.appendEvent(newEvent(channel.id, "$kept"));
        store.afterCommit(() => ran.push("kept"));
        await expect(
          store.transaction(async () => {
            await store.appendEvent(newEvent(channel.id, "$dropped"));
            store.afterCommit(() => ran.push("dropped"));
            throw new Error("inner");
          }),
        ).rejects.toThrow("inner");
        expect(ran).toEqual([]);
      });
      expect(ran).toEqual(["kept"]);
      expect(await store.eventByMatrixId(asMatrixEventId("$dropped"))).toBeUndefined();
      // Two transactions started together commit one after the other, hooks in that order (which
      // one goes first is the store's choice): the one that logged first hears first.
      await Promise.all(
        ["x", "y"].map((id) =>
          store.transaction(async () => {
            await store.appendEvent(newEvent(channel.id, `$${id}`));
            await settle();
            store.afterCommit(() => ran.push(id));
          }),
        ),
      );
      const seqOf = async (id: string) => (await store.eventByMatrixId(asMatrixEventId(`$${id}`)))?.seq ?? 0;
      const bySeq = (await Promise.all(["x", "y"].map(async (id) => ({ id, seq: await seqOf(id) })))).sort(
        (a, b) => a.seq - b.seq,
      );
      expect(bySeq.map((e) => e.seq)).toEqual([2, 3]);
      expect(ran).toEqual(["kept", ...bySeq.map((e) => e.id)]);
      // Outside a transaction, after-commit work runs at once.
      store.afterCommit(() => ran.push("now"));
      expect(ran.at(-1)).toBe("now");
    });

    it("undo everything on a failure, keep what a caught savepoint did not touch", async () => {
      const { store } = await adapter.fresh();
      const channel = await store.insertChannel(asChannelName("a"), asRoomId("!a:x"), "#a");
      const ran: string[] = [];
      await expect(
        store.transaction(async () => {
          await store.appendEvent(newEvent(channel.id, "$1"));
          await store.upsertNativeUser({ userId: alice, localpart: "alice", isGuest: false });
          store.afterCommit(() => ran.push("never"));
          throw new Error("fail");
        }),
      ).rejects.toThrow("fail");
      expect(ran).toEqual([]);
      expect(await store.nativeUser(alice)).toBeUndefined();
      expect(await store.nextSeq(channel.id)).toBe(1);
      // The value a transaction returns comes back once it commits; stores calls after it are outside.
      const seq = await store.transaction(async () => {
        const appended = await store.appendEvent(newEvent(channel.id, "$2"));
        await store.transaction(async () => {
          await store.setTopic(channel.id, "kept");
        });
        return appended?.seq;
      });
      expect(seq).toBe(1);
      expect((await store.channelById(channel.id))?.topic).toBe("kept");
    });

    it("let work that outlives its transaction run outside it", async () => {
      const { store } = await adapter.fresh();
      const channel = await store.insertChannel(asChannelName("a"), asRoomId("!a:x"), "#a");
      let later!: Promise<unknown>;
      const ran: string[] = [];
      await store.transaction(async () => {
        await store.appendEvent(newEvent(channel.id, "$1"));
        // Started inside, runs after the commit: its own transaction, not the finished one's.
        later = new Promise((resolve) => setTimeout(resolve, 20)).then(() =>
          store.transaction(async () => {
            await store.appendEvent(newEvent(channel.id, "$2"));
            store.afterCommit(() => ran.push("later"));
          }),
        );
      });
      await later;
      expect(ran).toEqual(["later"]);
      expect((await store.eventByMatrixId(asMatrixEventId("$2")))?.seq).toBe(2);
    });
  });
});
