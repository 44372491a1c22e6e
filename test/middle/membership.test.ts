// Membership, direct channels and read state through the domain and a real socket, with a fake
// homeserver: joins and leaves on both sides, ordering of pushes, direct channels and their
// privacy, read pointers, unread pointers and notifications.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bodyOf, TestClient } from "../support/client.ts";
import { type Middle, puppet, startMiddle } from "../support/middle.ts";
import { unique } from "../support/parley.ts";
import { expectLooksMissing } from "../support/privacy.ts";

let m: Middle;
beforeAll(async () => {
  m = await startMiddle();
});
afterAll(async () => {
  await m?.stop();
});

describe("joining and leaving", () => {
  it("a join is a puppet join on Matrix, logged once, pushed to every subscriber in order", async () => {
    const channel = unique("join");
    const aliceName = unique("alice");
    const alice = await m.login(aliceName, "Alice");
    const joined = await alice.ok("chat.join", { channel });
    const roomId = (joined.state as { room_id: string }).room_id;
    expect(joined.next_event_id).toBe(2);
    const bob = await m.login(unique("bob"), "Bob");
    await bob.ok("chat.join", { channel });
    await alice.ok("chat.join", { channel }); // idempotent: nothing new
    await bob.ok("chat.leave", { channel });
    await bob.ok("chat.leave", { channel }); // idempotent too
    await m.settle();
    const member = alice
      .events(channel)
      .map((e) => [e.event_id, (e.content as { membership: string }).membership]);
    expect(member).toEqual([
      [1, "join"],
      [2, "join"],
      [3, "leave"],
    ]);
    expect(m.fake.room(roomId).members.get(puppet(aliceName))).toBe("join");
    const joins = m.fake
      .callsOf("setMembership")
      .filter(
        (c) => c.args[2] === puppet(aliceName) && (c.args[3] as { membership: string }).membership === "join",
      );
    expect(joins).toHaveLength(1);
  });

  it("a user without a display name cannot join; the profile set later shows on Matrix", async () => {
    const name = unique("nameless");
    const client = await TestClient.login(m.url, { token: await m.token(name) });
    expect(await client.errorCode("chat.join", { channel: unique("c") })).toBe(
      "channel.join.missing_profile",
    );
    await client.ok("user.update", { profile: { display_name: "Named" } });
    const channel = unique("c");
    await client.ok("chat.join", { channel });
    await m.settle();
    expect(m.fake.callsOf("setMembership").at(-1)?.args[3]).toMatchObject({
      membership: "join",
      profile: { display_name: "Named" },
    });
    client.close();
  });

  it("with the homeserver down a join fails fast with upstream.unavailable and changes nothing", async () => {
    const channel = unique("down");
    const alice = await m.login(unique("alice"), "Alice");
    m.fake.unavailable = true;
    try {
      expect(await alice.errorCode("chat.join", { channel })).toBe("upstream.unavailable");
    } finally {
      m.fake.unavailable = false;
    }
    const other = await m.login(unique("other"), "Other");
    expect(await other.errorCode("chat.members", { channel })).toBe("chat.unknown");
    await alice.ok("chat.join", { channel });
  });
});

describe("direct channels", () => {
  it("one channel per set of users, the others joined and subscribed, invisible to everyone else", async () => {
    const [a, b] = [unique("a"), unique("b")];
    const alice = await m.login(a, "Alice");
    const bob = await m.login(b, "Bob");
    const created = await alice.ok("chat.direct.create", { users: [puppet(b)] });
    const again = await bob.ok("chat.direct.create", { users: [puppet(a)] });
    expect(again.id).toBe(created.id);
    await alice.say(String(created.id), "psst");
    const note = await bob.waitFor((f) => f[0] === "chat.notification");
    expect(note[1]).toMatchObject({ event: { content: { body: "psst" } } });
    const eve = await m.login(unique("eve"), "Eve");
    await expectLooksMissing(eve, String(created.id), "dm.00000000000000000000000000000000", puppet(a));
  });

  it("blocking: a blocked user can neither start nor write a direct channel", async () => {
    const [a, b] = [unique("a"), unique("b")];
    const alice = await m.login(a, "Alice");
    const bob = await m.login(b, "Bob");
    const created = await alice.ok("chat.direct.create", { users: [puppet(b)] });
    await bob.ok("user.block", { id: puppet(a) });
    expect(await alice.errorCode("chat.direct.create", { users: [puppet(b)] })).toBe("chat.denied");
    expect(
      await alice.errorCode("chat.send", {
        channel: created.id,
        event_type: "channel.message",
        content: { type: "text", body: "hey" },
      }),
    ).toBe("chat.denied");
    expect((await bob.ok("user.list.blocked", {})).users).toEqual([puppet(a)]);
  });
});

describe("read state", () => {
  it("pointers move forward only, reach the user's other connections, and clear notifications", async () => {
    const channel = unique("read");
    const [a, b] = [unique("a"), unique("b")];
    const alice = await m.login(a, "Alice");
    const aliceToo = await m.login(a, "Alice");
    const bob = await m.login(b, "Bob");
    await alice.ok("chat.join", { channel });
    await bob.ok("chat.join", { channel });
    const mention = await bob.say(channel, `hello ${puppet(a)}`);
    await alice.waitFor((f) => f[0] === "chat.notification");
    const counts = await alice.waitFor((f) => f[0] === "chat.notification_counts");
    expect(counts[1]).toEqual({ [channel]: 1 });
    // Told once that there is something unread, not once per message.
    await bob.say(channel, "more");
    await bob.say(channel, "and more");
    await m.settle();
    expect(alice.received.filter((f) => f[0] === "chat.unread_pointers")).toHaveLength(1);
    await alice.ok("chat.mark_read", { channel, id: mention.event_id });
    const pointers = await aliceToo.waitFor((f) => f[0] === "chat.read_pointers");
    expect(pointers[1]).toEqual({ [channel]: mention.event_id });
    await alice.waitFor(
      (f) => f[0] === "chat.notification_counts" && Object.keys(f[1] as object).length === 0,
    );
    // Backwards is ignored; a receipt went to Matrix for the puppet.
    await alice.ok("chat.mark_read", { channel, id: 1 });
    expect(m.fake.receipts.filter((r) => r.userId === puppet(a))).toHaveLength(1);
    const fresh = await m.login(a, "Alice");
    const auth = fresh.received.find((f) => f[0] === "authenticated")?.[1] as {
      "chat.read_pointers": Record<string, number>;
    };
    expect(auth["chat.read_pointers"][channel]).toBe(mention.event_id);
    expect(bodyOf(mention)).toContain("hello");
  });
});
