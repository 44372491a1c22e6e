// History: chat.fetch both ways, recovering a gap after a reconnect, access to non-public
// channels, and backfill of a room's history from before Parley logged it.
import { describe, expect, it } from "vitest";
import { bodyOf, type TestClient } from "../support/client.ts";
import { chatFixture } from "../support/fixture.ts";
import { unique } from "../support/parley.ts";

const fixture = chatFixture();
const login = fixture.login;
const say = (client: TestClient, channel: string, body: string) =>
  client.say(channel, body).then((event) => ({ event }));
const results = (r: Record<string, unknown>) => r.results as Array<Record<string, unknown>>;

describe("chat.fetch", () => {
  it("pages backwards and forwards, oldest first, with the users map", async () => {
    const channel = unique("history");
    const alice = await login(unique("alice"), "Alice");
    const joined = await alice.ok("chat.join", { channel });
    const roomId = (joined.state as { room_id: string }).room_id;
    for (let i = 1; i <= 12; i++) await say(alice, channel, `m${i}`);
    await fixture.carol.join(roomId);
    await fixture.carol.sendText(roomId, "from carol");
    await alice.waitForEvent((e) => bodyOf(e) === "from carol");
    const next = (await alice.ok("chat.subscribe", { channel })).next_event_id as number;
    expect(next).toBe(16); // alice's join, 12 messages, fixture.carol's join, fixture.carol's message

    const latest = await alice.ok("chat.fetch", { channel, count: 5 });
    expect(results(latest).map((e) => e.event_id)).toEqual([11, 12, 13, 14, 15]);
    expect(results(latest).map(bodyOf)).toEqual(["m10", "m11", "m12", undefined, "from carol"]);
    expect(Object.keys(latest.users as object).sort()).toEqual(
      [results(latest)[0]?.sender, fixture.carol.userId].sort(),
    );
    expect((latest.users as Record<string, { profile: unknown }>)[fixture.carol.userId]?.profile).toEqual({
      display_name: "Carol",
      avatar_url: null,
    });

    const before = await alice.ok("chat.fetch", { channel, count: 5, before_id: 11 });
    expect(results(before).map((e) => e.event_id)).toEqual([6, 7, 8, 9, 10]);
    const first = await alice.ok("chat.fetch", { channel, count: 3, after_id: 0 });
    expect(results(first).map((e) => e.event_id)).toEqual([1, 2, 3]);
    expect(results(first)[0]).toMatchObject({
      event_type: "channel.member",
      content: { membership: "join" },
    });
    const between = await alice.ok("chat.fetch", { channel, count: 50, after_id: 12, before_id: 15 });
    expect(results(between).map((e) => e.event_id)).toEqual([13, 14]);
    // The default page is 50; a fetched event is exactly what was pushed.
    const all = await alice.ok("chat.fetch", { channel });
    expect(results(all)).toHaveLength(15);
    const pushed = alice.events(channel).find((e) => bodyOf(e) === "m5");
    expect(results(all).find((e) => bodyOf(e) === "m5")).toEqual(pushed);

    // A public channel can be read by anyone signed in; bad requests get their codes.
    const outsider = await login(unique("outsider"), "Outsider");
    expect(results(await outsider.ok("chat.fetch", { channel, count: 2 }))).toHaveLength(2);
    expect(await outsider.errorCode("chat.fetch", { channel: unique("nope") })).toBe("chat.unknown");
    expect(await outsider.errorCode("chat.fetch", { channel, count: 0 })).toBe("protocol.invalid_payload");
    expect(await outsider.errorCode("chat.fetch", { channel, count: 201 })).toBe("protocol.invalid_payload");
    expect(await outsider.errorCode("chat.fetch", { channel, before_id: "x" })).toBe(
      "protocol.invalid_payload",
    );
  });

  it("a client that reconnects recovers everything it missed, Matrix users' too", async () => {
    const channel = unique("recover");
    const alice = await login(unique("alice"), "Alice");
    const bobName = unique("bob");
    let bob = await login(bobName, "Bob");
    const joined = await alice.ok("chat.join", { channel });
    const roomId = (joined.state as { room_id: string }).room_id;
    await bob.ok("chat.join", { channel });
    await fixture.carol.join(roomId);
    // Each world's events are logged as they reach Parley: wait for each Matrix step before the
    // next native one, so the log's order is the one written below.
    const carolAt = (membership: string, after = 0) =>
      alice.waitForEvent(
        (e) =>
          e.sender === fixture.carol.userId &&
          (e.content as { membership?: string }).membership === membership &&
          (e.event_id as number) > after,
      );
    const carolJoined = await carolAt("join");
    await say(alice, channel, "before");
    const lastSeen = (await bob.waitForEvent((e) => bodyOf(e) === "before")).event_id as number;
    bob.close();

    // Meanwhile: messages and membership changes from both worlds.
    await say(alice, channel, "while away 1");
    await fixture.carol.sendText(roomId, "carol while away");
    await fixture.carol.leave(roomId);
    await fixture.carol.join(roomId);
    await carolAt("join", carolJoined.event_id as number);
    await say(alice, channel, "while away 2");
    await alice.ok("chat.leave", { channel });
    await alice.waitForEvent(
      (e) =>
        e.sender !== undefined &&
        (e.content as { membership?: string }).membership === "leave" &&
        (e.content as { user: { id: string } }).user.id !== fixture.carol.userId,
    );

    bob = await login(bobName);
    const { next_event_id: next } = await bob.ok("chat.subscribe", { channel });
    const gap = results(await bob.ok("chat.fetch", { channel, after_id: lastSeen, count: 200 }));
    expect(gap.map((e) => e.event_id)).toEqual(
      Array.from({ length: (next as number) - lastSeen - 1 }, (_, i) => lastSeen + 1 + i),
    );
    expect(gap.map((e) => bodyOf(e) ?? (e.content as { membership: string }).membership)).toEqual([
      "while away 1",
      "carol while away",
      "leave",
      "join",
      "while away 2",
      "leave",
    ]);
    // Exactly what a client that stayed connected saw.
    expect(gap).toEqual(alice.events(channel).filter((e) => (e.event_id as number) > lastSeen));
  });
});

describe("access and backfill", () => {
  it("a channel that is not public can only be read by its subscribers and members", async () => {
    const channel = unique("private");
    const alice = await login(unique("alice"), "Alice");
    const outsider = await login(unique("outsider"), "Outsider");
    const joined = await alice.ok("chat.join", { channel });
    const roomId = (joined.state as { room_id: string }).room_id;
    await say(alice, channel, "members only");
    // Alice is in the room (through the outbox) before it closes.
    await fixture.parley.mirrored();
    // Make the room invite-only the way a room admin would, as the bot that owns it.
    const registration = (await import("../../src/matrix/registration.ts")).readRegistration(
      fixture.parley.env.registrationPath,
    );
    const response = await fetch(
      `${fixture.parley.env.homeserverUrl}/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/state/m.room.join_rules/`,
      {
        method: "PUT",
        headers: { authorization: `Bearer ${registration.as_token}`, "content-type": "application/json" },
        body: JSON.stringify({ join_rule: "invite" }),
      },
    );
    expect(response.status).toBe(200);
    await expect
      .poll(() => outsider.request("chat.fetch", { channel }).then((r) => (r.ok ? "ok" : r.error.code)), {
        timeout: 10_000,
      })
      .toBe("chat.denied");
    expect(results(await alice.ok("chat.fetch", { channel })).map(bodyOf)).toContain("members only");
    await outsider.ok("chat.subscribe", { channel });
    expect(results(await outsider.ok("chat.fetch", { channel })).map(bodyOf)).toContain("members only");
  });

  it("history from before Parley logged the room is backfilled with event_ids below the oldest", async () => {
    const channel = unique("older");
    const alice = await login(unique("alice"), "Alice");
    const joined = await alice.ok("chat.join", { channel });
    const roomId = (joined.state as { room_id: string }).room_id;
    await say(alice, channel, "ancient 1");
    await say(alice, channel, "ancient 2");
    // In the room before Carol speaks (the outbox is quick, but Carol is quicker).
    await fixture.parley.mirrored();
    await fixture.carol.join(roomId);
    await fixture.carol.sendText(roomId, "ancient carol");
    await alice.waitForEvent((e) => bodyOf(e) === "ancient carol");

    // A Parley that has never seen this channel (its database is new) adopts the existing room.
    await fixture.replaceParley();
    const dave = await login(unique("dave"), "Dave");
    const adopted = await dave.ok("chat.join", { channel });
    expect((adopted.state as { room_id: string }).room_id).toBe(roomId);
    expect(adopted.next_event_id).toBe(2); // only Dave's join is Parley's own

    const page = results(await dave.ok("chat.fetch", { channel, count: 50 }));
    const ids = page.map((e) => e.event_id as number);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(ids.at(-1)).toBe(1);
    expect(ids.slice(0, -1).every((id) => id <= 0)).toBe(true);
    expect(page.map(bodyOf).filter(Boolean)).toEqual(["ancient 1", "ancient 2", "ancient carol"]);
    expect(
      page
        .filter((e) => e.event_type === "channel.member")
        .map((e) => (e.content as { user: { profile: { display_name: string } } }).user.profile.display_name),
    ).toEqual(["Alice", "Carol", "Dave"]);
    // Paging further back finds nothing more, and nothing is duplicated by asking twice.
    expect(results(await dave.ok("chat.fetch", { channel, count: 50, before_id: ids[0] }))).toEqual([]);
    expect(results(await dave.ok("chat.fetch", { channel, count: 50 }))).toEqual(page);
  });
});
