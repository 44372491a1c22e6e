// Read state and member lists: pointers, unread pushes, Matrix read receipts, who is online and
// who was seen, and batched member pushes in big channels.
import { describe, expect, it } from "vitest";
import { TestClient } from "../support/client.ts";
import { chatFixture } from "../support/fixture.ts";
import type { MatrixUser } from "../support/matrix-user.ts";
import { unique } from "../support/parley.ts";

const fixture = chatFixture();
const login = fixture.login;
const say = (client: TestClient, channel: string, body: string) =>
  client.say(channel, body).then((event) => ({ event }));

/** The m.read receipts of a room as an ordinary Matrix client sees them in /sync. */
async function receipts(user: MatrixUser, roomId: string): Promise<Record<string, string>> {
  const token = (user.client as unknown as { accessToken: string }).accessToken;
  const response = await fetch(`${fixture.parley.env.homeserverUrl}/_matrix/client/v3/sync?timeout=0`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const body = (await response.json()) as {
    rooms?: {
      join?: Record<
        string,
        {
          ephemeral?: {
            events?: Array<{ type: string; content: Record<string, { "m.read"?: Record<string, unknown> }> }>;
          };
        }
      >;
    };
  };
  const byUser: Record<string, string> = {};
  for (const event of body.rooms?.join?.[roomId]?.ephemeral?.events ?? []) {
    if (event.type !== "m.receipt") continue;
    for (const [eventId, types] of Object.entries(event.content)) {
      for (const userId of Object.keys(types["m.read"] ?? {})) byUser[userId] = eventId;
    }
  }
  return byUser;
}

describe("read state", () => {
  it("mark_read moves the pointer forward, tells the other connections, and becomes a Matrix receipt", async () => {
    const channel = unique("read");
    const name = unique("alice");
    const alice = await login(name, "Alice");
    const aliceOnPhone = await login(name);
    const joined = await alice.ok("chat.join", { channel });
    const roomId = (joined.state as { room_id: string }).room_id;
    await fixture.carol.join(roomId);
    const sent = [];
    for (const body of ["one", "two", "three"])
      sent.push(((await say(alice, channel, body)).event as { event_id: number }).event_id);
    const [, second, third] = sent as [number, number, number];

    await alice.ok("chat.mark_read", { channel, id: second });
    const pushed = await aliceOnPhone.waitFor((f) => f[0] === "chat.read_pointers");
    expect(pushed).toEqual(["chat.read_pointers", { [channel]: second }]);
    expect(alice.received.some((f) => f[0] === "chat.read_pointers")).toBe(false);

    // Backwards is ignored; a new connection sees pointers and unread pointers.
    await alice.ok("chat.mark_read", { channel, id: 1 });
    const fresh = await TestClient.connect(fixture.parley.url());
    const auth = (await fresh.authenticate({ token: await fixture.parley.token(name) }))[1] as Record<
      string,
      unknown
    >;
    expect(auth["chat.read_pointers"]).toEqual({ [channel]: second });
    expect(auth["chat.channels"]).toEqual([{ id: channel, unread_pointer: third }]);
    expect(auth["chat.notification_counts"]).toEqual({});
    fresh.close();

    // Matrix users see the puppet's read receipt on the event.
    const secondEvent = alice.events(channel).find((e) => e.event_id === second);
    expect(secondEvent).toBeDefined();
    const puppet = (joined.members as Array<{ id: string }>)[0]?.id as string;
    // The receipt follows the message through the outbox. (Synapse caches an initial /sync for a
    // while, so asking before it is there would keep the answer without it.)
    await fixture.parley.mirrored();
    await expect
      .poll(async () => (await receipts(fixture.carol, roomId))[puppet], { timeout: 10_000 })
      .toBeTruthy();
    const onMatrix = await receipts(fixture.carol, roomId);
    const sentOnMatrix = fixture.carol.events.find(
      (r) => r.roomId === roomId && r.event.content.body === "two",
    );
    expect(onMatrix[puppet]).toBe(sentOnMatrix?.event.event_id);
    expect(await alice.errorCode("chat.mark_read", { channel: unique("nope"), id: 1 })).toBe("chat.unknown");
  });

  it("members hear of unread messages once per read, not once per message", async () => {
    const channel = unique("unread");
    const alice = await login(unique("alice"), "Alice");
    const bob = await login(unique("bob"), "Bob");
    await alice.ok("chat.join", { channel });
    await bob.ok("chat.join", { channel });
    const unread = () => bob.received.filter((f) => f[0] === "chat.unread_pointers");

    const first = ((await say(alice, channel, "a")).event as { event_id: number }).event_id;
    await say(alice, channel, "b");
    await bob.waitForEvent((e) => (e.content as { body?: string }).body === "b");
    expect(unread()).toEqual([["chat.unread_pointers", { [channel]: first }]]);
    expect(alice.received.some((f) => f[0] === "chat.unread_pointers")).toBe(false); // not for one's own

    const latest = ((await say(alice, channel, "c")).event as { event_id: number }).event_id;
    await bob.ok("chat.mark_read", { channel, id: latest });
    const after = ((await say(alice, channel, "d")).event as { event_id: number }).event_id;
    await bob.waitFor(
      (f) => f[0] === "chat.unread_pointers" && (f[1] as Record<string, number>)[channel] === after,
    );
    expect(unread()).toHaveLength(2);
  });
});

describe("chat.members", () => {
  it("lists members, who is online, and everyone seen with when", async () => {
    const channel = unique("crowd");
    const alice = await login(unique("alice"), "Alice");
    const bob = await login(unique("bob"), "Bob");
    const joined = await alice.ok("chat.join", { channel });
    const roomId = (joined.state as { room_id: string }).room_id;
    await bob.ok("chat.join", { channel });
    await fixture.carol.join(roomId);
    await fixture.carol.sendText(roomId, "hello from element");
    await alice.waitForEvent((e) => (e.content as { body?: string }).body === "hello from element");
    const aliceId = (joined.members as Array<{ id: string }>)[0]?.id as string;
    const bobId = (
      (await bob.ok("chat.subscribe", { channel })).members as Array<{
        id: string;
        profile: { display_name: string };
      }>
    ).find((m) => m.profile.display_name === "Bob")?.id as string;

    const everyone = await alice.ok("chat.members", { channel });
    expect((everyone.members as Array<{ id: string }>).map((m) => m.id).sort()).toEqual(
      [aliceId, bobId, fixture.carol.userId].sort(),
    );
    expect((everyone.online as string[]).sort()).toEqual([aliceId, bobId, fixture.carol.userId].sort());

    const before = Date.now();
    bob.close();
    await expect
      .poll(async () => (await alice.ok("chat.members", { channel })).online as string[], { timeout: 5_000 })
      .not.toContain(bobId);
    await fixture.carol.leave(roomId);
    await alice.waitForEvent(
      (e) => (e.content as { membership?: string; user?: { id: string } }).membership === "leave",
    );
    const later = await alice.ok("chat.members", { channel });
    expect((later.members as Array<{ id: string }>).map((m) => m.id).sort()).toEqual([aliceId, bobId].sort());
    expect(later.online).toEqual([aliceId]);
    const seen = later.seen as Array<{ id: string; last_seen: number }>;
    expect(seen.map((s) => s.id).sort()).toEqual([aliceId, bobId, fixture.carol.userId].sort());
    const bobSeen = seen.find((s) => s.id === bobId)?.last_seen as number;
    expect(bobSeen).toBeGreaterThanOrEqual(before - 1000);
    expect(bobSeen).toBeLessThanOrEqual(Date.now());
    expect(await alice.errorCode("chat.members", { channel: unique("nope") })).toBe("chat.unknown");
  });

  it("in a big channel joins and leaves arrive batched, in order, none lost", async () => {
    await fixture.replaceParley({ memberBatchThreshold: 2 });
    try {
      const channel = unique("big");
      // This watcher asked for batches; the plain one did not and gets every event on its own.
      const watcher = await TestClient.login(fixture.parley.url(), {
        token: await fixture.parley.token(unique("watcher"), "Watcher"),
        batch_member_events: true,
      });
      const plain = await login(unique("plain"), "Plain");
      await watcher.ok("chat.subscribe", { channel });
      await plain.ok("chat.subscribe", { channel });
      const crowd = await Promise.all(
        Array.from({ length: 8 }, (_, i) => login(unique(`fan${i}`), `Fan ${i}`)),
      );
      for (const fan of crowd) await fan.ok("chat.join", { channel });
      await crowd[0]?.ok("chat.leave", { channel });
      await say(crowd[1] as TestClient, channel, "after the crowd");
      await watcher.waitForEvent((e) => (e.content as { body?: string }).body === "after the crowd");

      const singles = watcher.received
        .filter((f) => f[0] === "chat.event")
        .map((f) => f[1] as Record<string, unknown>);
      const batches = watcher.received
        .filter((f) => f[0] === "chat.events")
        .map((f) => f[1] as { channel: string; events: Array<Record<string, unknown>> });
      expect(batches.length).toBeGreaterThan(0);
      expect(batches.every((b) => b.channel === channel && b.events.length > 0)).toBe(true);
      const batched = batches.flatMap((b) => b.events);
      expect(batches.length).toBeLessThan(batched.length);
      // Every event exactly once, and in event_id order across both kinds of push.
      const inOrder = watcher.received
        .filter((f) => f[0] === "chat.event" || f[0] === "chat.events")
        .flatMap((f) => (f[0] === "chat.event" ? [f[1]] : (f[1] as { events: unknown[] }).events)) as Array<
        Record<string, unknown>
      >;
      const ids = inOrder.map((e) => e.event_id as number);
      expect(ids).toEqual(Array.from({ length: ids.length }, (_, i) => i + 1));
      expect(singles.filter((e) => e.event_type === "channel.member").length + batched.length).toBe(9);
      const fetched = (await watcher.ok("chat.fetch", { channel, count: 50 })).results as Array<
        Record<string, unknown>
      >;
      expect(fetched).toEqual(inOrder);
      await plain.waitForEvent((e) => (e.content as { body?: string }).body === "after the crowd");
      expect(plain.received.some((f) => f[0] === "chat.events")).toBe(false);
      expect(plain.events(channel)).toEqual(inOrder);
      watcher.close();
    } finally {
      await fixture.replaceParley();
    }
  });
});
