// Private messages and personal controls (protocol section 6): direct channels with native users
// and an ordinary Matrix user (a DM in Element), with oneself, blocking and ignoring.
import { describe, expect, it } from "vitest";
import { bodyOf } from "../support/client.ts";
import { chatFixture } from "../support/fixture.ts";
import { accessTokenOf } from "../support/matrix-sync.ts";
import { unique } from "../support/parley.ts";
import { expectLooksMissing } from "../support/privacy.ts";

const fixture = chatFixture();
const puppet = (name: string) => `@chat_${name}:localhost`;

describe("chat.direct.create", () => {
  it("one channel per set of users, a DM in Element, messages both ways, notifications, private", async () => {
    const aliceName = unique("alice");
    const bobName = unique("bob");
    const alice = await fixture.login(aliceName, "Alice");
    const bob = await fixture.login(bobName, "Bob");
    const carol = fixture.carol;

    const created = await alice.ok("chat.direct.create", { users: [puppet(bobName), carol.userId] });
    const id = created.id as string;
    expect(id).toMatch(/^dm\./);
    expect((created.members as Array<{ id: string }>).map((m) => m.id).sort()).toEqual(
      [puppet(aliceName), puppet(bobName)].sort(),
    );
    // The same set, in any order and from any member, is the same channel.
    expect((await bob.ok("chat.direct.create", { users: [carol.userId, puppet(aliceName)] })).id).toBe(id);
    expect((await alice.ok("chat.direct.create", { users: [carol.userId, puppet(bobName)] })).id).toBe(id);

    // Element sees a direct invite (is_direct) from Alice's puppet, and joins.
    const roomId = (created.state as { room_id: string }).room_id;
    const sync = (await (
      await fetch(`${fixture.parley.env.homeserverUrl}/_matrix/client/v3/sync?timeout=0`, {
        headers: { authorization: `Bearer ${accessTokenOf(carol.client)}` },
      })
    ).json()) as {
      rooms?: { invite?: Record<string, { invite_state: { events: Array<Record<string, unknown>> } }> };
    };
    const invite = sync.rooms?.invite?.[roomId]?.invite_state.events.find(
      (e) => e.type === "m.room.member" && e.state_key === carol.userId,
    );
    expect(invite).toMatchObject({
      sender: puppet(aliceName),
      content: { membership: "invite", is_direct: true },
    });
    await carol.join(roomId);

    await alice.say(id, "just us");
    const notification = await bob.waitFor((f) => f[0] === "chat.notification");
    expect(notification[1]).toMatchObject({
      event: { channel: id, content: { body: "just us" } },
      sender: { id: puppet(aliceName) },
    });
    await carol.waitForEvent((r) => r.roomId === roomId && r.event.content.body === "just us");
    await carol.sendText(roomId, "hi both");
    await alice.waitForEvent((e) => bodyOf(e) === "hi both");

    // Others cannot get in or read along, and cannot even tell the conversation exists: every
    // action that names a channel answers exactly as for a direct channel nobody created.
    const eve = await fixture.login(unique("eve"), "Eve");
    await expectLooksMissing(eve, id as string, "dm.00000000000000000000000000000000", puppet(aliceName));
  });

  it("an empty list is a channel with oneself", async () => {
    const name = unique("solo");
    const solo = await fixture.login(name, "Solo");
    const notes = await solo.ok("chat.direct.create", { users: [] });
    expect((notes.members as Array<{ id: string }>).map((m) => m.id)).toEqual([puppet(name)]);
    expect((await solo.ok("chat.direct.create", { users: [] })).id).toBe(notes.id);
    await solo.say(notes.id as string, "note to self");
    await solo.waitForEvent((e) => bodyOf(e) === "note to self");
  });
});

describe("blocking and ignoring", () => {
  it("a blocked user can neither start nor write DMs to you; unblocking undoes it", async () => {
    const aliceName = unique("alice");
    const bobName = unique("bob");
    const alice = await fixture.login(aliceName, "Alice");
    const bob = await fixture.login(bobName, "Bob");
    const dm = await alice.ok("chat.direct.create", { users: [puppet(bobName)] });
    await bob.ok("user.block", { id: puppet(aliceName) });
    expect(await bob.ok("user.list.blocked", {})).toEqual({ users: [puppet(aliceName)] });
    expect(
      await alice.errorCode("chat.send", {
        channel: dm.id,
        event_type: "channel.message",
        content: { type: "text", body: "hey" },
      }),
    ).toBe("chat.denied");
    const other = unique("x");
    await fixture.login(other, "Third");
    expect(await alice.errorCode("chat.direct.create", { users: [puppet(bobName), puppet(other)] })).toBe(
      "chat.denied",
    );
    await bob.ok("user.unblock", { id: puppet(aliceName) });
    expect(await bob.ok("user.list.blocked", {})).toEqual({ users: [] });
    await alice.say(dm.id as string, "hey again");
    await bob.waitForEvent((e) => bodyOf(e) === "hey again");
  });

  it("ignoring someone stops their messages reaching you, in pushes and in fetch", async () => {
    const channel = unique("loud");
    const alice = await fixture.login(unique("alice"), "Alice");
    const bob = await fixture.login(unique("bob"), "Bob");
    const joined = await alice.ok("chat.join", { channel });
    await bob.ok("chat.join", { channel });
    const roomId = (joined.state as { room_id: string }).room_id;
    await fixture.carol.join(roomId);
    await bob.ok("user.ignore", { id: fixture.carol.userId });
    await fixture.carol.sendText(roomId, "can you hear me");
    await alice.waitForEvent((e) => bodyOf(e) === "can you hear me");
    await alice.say(channel, "marker");
    await bob.waitForEvent((e) => bodyOf(e) === "marker");
    expect(bob.events(channel).map(bodyOf)).not.toContain("can you hear me");
    const fetched = (await bob.ok("chat.fetch", { channel })).results as Array<Record<string, unknown>>;
    expect(fetched.map(bodyOf)).toContain("marker");
    expect(fetched.map(bodyOf)).not.toContain("can you hear me");
    await bob.ok("user.unignore", { id: fixture.carol.userId });
    await fixture.carol.sendText(roomId, "and now");
    await bob.waitForEvent((e) => bodyOf(e) === "and now");
  });
});
