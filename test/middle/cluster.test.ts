// Two nodes of one installation in one process: the real domain, gateways and WebSockets on each,
// one shared store and fake homeserver, and a private Redis between them. What a cluster must do
// that one node did by itself: pushes across nodes, one order for concurrent posts, typing, online
// state and slow mode shared, the outbox posting once, and a Redis restart survived.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Store } from "../../src/domain/ports/store.ts";
import { openSqliteStore } from "../../src/store/sqlite/store.ts";
import { bodyOf, type TestClient } from "../support/client.ts";
import { type Middle, puppet, SERVER, startMiddle } from "../support/middle.ts";
import { unique } from "../support/parley.ts";
import { startRedis, type TestRedis } from "../support/redis.ts";

let redis: TestRedis;
let store: Store;
let a: Middle;
let b: Middle;

beforeAll(async () => {
  redis = await startRedis();
  store = openSqliteStore(":memory:");
  // A directory ranking per first page: each test sees what it just did.
  const chat = { directory_refresh_ms: 0 };
  a = await startMiddle({ store, chat, cluster: { redisUrl: redis.url, nodeId: "node-a" } });
  b = await startMiddle({ store, chat, fake: a.fake, cluster: { redisUrl: redis.url, nodeId: "node-b" } });
}, 30_000);
afterAll(async () => {
  await b?.stop();
  await a?.stop();
  await store?.close();
  await redis?.stop();
});

const messagesOf = (client: TestClient, channel: string) =>
  client.events(channel).filter((e) => e.event_type === "channel.message");

/** Alice on node A and Bob on node B, both joined to a new channel. */
async function scene() {
  const channel = unique("cl");
  const names = { alice: unique("alice"), bob: unique("bob") };
  const alice = await a.login(names.alice, "Alice");
  const bob = await b.login(names.bob, "Bob");
  await alice.ok("chat.join", { channel });
  await bob.ok("chat.join", { channel });
  return {
    channel,
    names,
    alice,
    bob,
    ids: { alice: `@chat_${names.alice}:${SERVER}`, bob: `@chat_${names.bob}:${SERVER}` },
  };
}

const until = async (check: () => boolean | Promise<boolean>, what: string, timeoutMs = 5_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

describe("two nodes over Redis", () => {
  it("count in chat.directory who is online on either node; a cursor goes on on the other node", async () => {
    const { channel, alice, bob } = await scene();
    type Page = { results: Array<{ id: string; members: number; online: number }>; next_cursor?: string };
    const listed = async (client: TestClient, payload: Record<string, unknown>) =>
      (await client.ok("chat.directory", payload)) as unknown as Page;
    await until(
      async () => (await listed(alice, { search: channel })).results[0]?.online === 2,
      "bob, on node B, counted online on node A",
    );
    expect((await listed(bob, { search: channel })).results).toEqual([
      { id: channel, topic: null, members: 2, online: 2 },
    ]);
    const tag = unique("clusterdir");
    for (let i = 0; i < 3; i++) await alice.ok("chat.join", { channel: `${tag}_${i}` });
    const first = await listed(alice, { search: tag, count: 1 });
    // Node B never made that ranking: it goes on after the last channel by rank in its own.
    const rest = await listed(bob, { search: tag, count: 5, cursor: first.next_cursor });
    expect([...first.results, ...rest.results].map((e) => e.id).sort()).toEqual(
      [0, 1, 2].map((i) => `${tag}_${i}`),
    );
  });

  it("carry a conversation across nodes, and Matrix gets each message once", async () => {
    const { channel, alice, bob } = await scene();
    const sent = await alice.say(channel, "hello from A");
    const got = await bob.waitForEvent((e) => bodyOf(e) === "hello from A");
    expect(got.event_id).toBe(sent.event_id);
    await bob.say(channel, "hello from B");
    await alice.waitForEvent((e) => bodyOf(e) === "hello from B");
    await a.settle();
    const roomId = (await store.channelByName(channel as never))?.roomId ?? "";
    const bodies = a.fake
      .room(roomId)
      .events.filter((e) => e.type === "m.room.message")
      .map((e) => e.content.body);
    expect(bodies).toEqual(["hello from A", "hello from B"]);
  });

  it("give concurrent posts on both nodes one gapless order, seen the same everywhere", async () => {
    const { channel, alice, bob } = await scene();
    const first = (await alice.say(channel, "start")).event_id as number;
    await bob.waitForEvent((e) => bodyOf(e) === "start");
    const count = 25;
    await Promise.all([
      ...Array.from({ length: count }, (_, i) => alice.say(channel, `a${i}`)),
      ...Array.from({ length: count }, (_, i) => bob.say(channel, `b${i}`)),
    ]);
    const total = 2 * count + 1;
    await until(
      () => messagesOf(alice, channel).length >= total && messagesOf(bob, channel).length >= total,
      "every message on both nodes",
    );
    const ids = (client: TestClient) => messagesOf(client, channel).map((e) => e.event_id as number);
    // Joins are events too: the messages' ids increase strictly, and each side saw every event once.
    const seenByAlice = alice.events(channel).map((e) => e.event_id as number);
    const seenByBob = bob.events(channel).map((e) => e.event_id as number);
    const fromFirst = (list: number[]) => list.filter((id) => id >= first);
    expect(fromFirst(seenByAlice)).toEqual(fromFirst(seenByBob));
    expect(fromFirst(seenByAlice)).toEqual(
      Array.from({ length: fromFirst(seenByAlice).length }, (_, i) => first + i),
    );
    expect(ids(alice)).toEqual(ids(bob));
    expect(new Set(messagesOf(bob, channel).map(bodyOf)).size).toBe(total);
  });

  it("share typing, online state and slow mode", async () => {
    const { channel, names, ids, alice, bob } = await scene();
    await alice.ok("chat.typing", { channel, typing: true });
    const typing = await bob.waitFor(
      (f) => f[0] === "chat.typing" && (f[1] as { users: string[] }).users.length > 0,
      5_000,
      "typing from the other node",
    );
    expect((typing[1] as { users: string[] }).users).toEqual([ids.alice]);
    const members = (await bob.ok("chat.members", { channel })) as unknown as { online: string[] };
    expect(members.online).toEqual(expect.arrayContaining([ids.alice, ids.bob]));

    // Alice owns the channel (she created it); slow mode binds Bob on whichever node he posts.
    await alice.ok("chat.settings", { channel, slow_mode: 60 });
    await bob.say(channel, "first");
    const bobOnA = await a.login(names.bob, "Bob");
    const refused = await bobOnA.request("chat.send", {
      channel,
      event_type: "channel.message",
      content: { type: "text", body: "second, through the other node" },
    });
    expect(refused.ok ? "success" : refused.error.code).toBe("channel.slow_mode");
  });

  it("make one room for a conversation both people open at once on two nodes", async () => {
    const x = unique("x");
    const y = unique("y");
    const onA = await a.login(x, "X");
    const onB = await b.login(y, "Y");
    const before = a.fake.calls.filter((call) => call.method === "createDirectRoom").length;
    // A homeserver slow enough that both asks are in flight together.
    a.fake.answerAfterMs = 150;
    const [first, second] = await Promise.all([
      onA.ok("chat.direct.create", { users: [puppet(y)] }),
      onB.ok("chat.direct.create", { users: [puppet(x)] }),
    ]).finally(() => {
      a.fake.answerAfterMs = 0;
    });
    expect(first.id).toBe(second.id);
    expect((first.state as { room_id: string }).room_id).toBe((second.state as { room_id: string }).room_id);
    expect(a.fake.calls.filter((call) => call.method === "createDirectRoom").length - before).toBe(1);
  });

  it("end a timeout once in the whole cluster, whichever node's sweep sees it first", async () => {
    const { channel, alice, bob, ids } = await scene();
    const row = await store.channelByName(channel as never);
    if (!row) throw new Error("no channel");
    const levelWrites = () =>
      a.fake
        .callsOf("setPowerLevel")
        .filter((call) => call.args[0] === row.roomId && call.args[1] === ids.bob).length;
    const before = levelWrites();
    // A timeout past its end that no node has a timer for (set by a node that died, say).
    await store.putTimeout({
      channelId: row.id,
      userId: ids.bob as never,
      until: Date.now() - 1,
      previousLevel: null,
      by: ids.alice as never,
      reason: null,
    });
    const untimeouts = (client: TestClient) =>
      client.received.filter(
        (f) => f[0] === "chat.moderation" && (f[1] as { action?: string }).action === "untimeout",
      );
    await until(
      () => untimeouts(alice).length > 0 && untimeouts(bob).length > 0,
      "the timeout to end",
      10_000,
    );
    // Both nodes sweep every 2 s: another round on each, and still one end.
    await new Promise((resolve) => setTimeout(resolve, 4_500));
    await a.settle();
    expect(untimeouts(alice)).toHaveLength(1);
    expect(untimeouts(bob)).toHaveLength(1);
    expect(await store.timeout(row.id, ids.bob as never)).toBeUndefined();
    expect(levelWrites() - before).toBe(1);
  }, 20_000);

  it("survive a Redis restart: pushes flow again, and what was lost meanwhile is caught up", async () => {
    const { channel, alice, bob } = await scene();
    await alice.say(channel, "before");
    await bob.waitForEvent((e) => bodyOf(e) === "before");
    await redis.kill();
    // Logged while the bus is away: answered at once on node A, lost to node B's subscription.
    await alice.say(channel, "during");
    await redis.start();
    await bob.waitForEvent((e) => bodyOf(e) === "during", 15_000);
    await alice.say(channel, "after");
    await bob.waitForEvent((e) => bodyOf(e) === "after", 10_000);
    expect(messagesOf(bob, channel).map(bodyOf)).toEqual(["before", "during", "after"]);
  }, 40_000);
});

describe("media review across nodes", () => {
  it("a mark on one node reaches the other's subscribers as chat.event.update, held files included", async () => {
    const { channel, alice, bob, ids } = await scene();
    const carol = await b.login(unique("carol"), "Carol");
    await carol.ok("chat.join", { channel });
    const files = {
      type: "files",
      files: [{ url: "https://example.org/x.png", name: "x.png", mimeType: "image/png" }],
    };
    const send = (client: TestClient) =>
      client
        .ok("chat.send", { channel, event_type: "channel.message", content: files })
        .then((r) => r.event as Record<string, unknown>);
    const update = (client: TestClient, id: unknown) =>
      client
        .waitFor((f) => f[0] === "chat.event.update" && (f[1] as { event_id: unknown }).event_id === id)
        .then((f) => f[1] as Record<string, unknown>);

    // Alice created the channel: she moderates it, on node A.
    const shown = await send(bob);
    await alice.ok("chat.media.mark", { channel, event: shown.event_id, nsfw: true });
    expect(await update(carol, shown.event_id)).toMatchObject({ nsfw: true, sender: ids.bob });

    await alice.ok("chat.settings", { channel, media_review: "before" });
    const held = await send(bob);
    expect(held).toMatchObject({ pending_review: true });
    await alice.waitForEvent((e) => e.event_id === held.event_id && e.pending_review === true);
    await alice.ok("chat.media.mark", { channel, event: held.event_id, nsfw: false });
    const approved = await update(carol, held.event_id);
    expect(approved).toMatchObject({ sender: ids.bob, content: files });
    expect(approved).not.toHaveProperty("pending_review");
    // Carol on node B never had it pushed as an event while it was held.
    expect(carol.events(channel).map((e) => e.event_id)).not.toContain(held.event_id);
  });
});
