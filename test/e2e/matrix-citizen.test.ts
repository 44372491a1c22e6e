// Matrix users see what native users see, and the other way round (issue 14): each point read the
// way a Matrix client reads it (room state, /sync, profiles) and the way a native client gets it.
import { describe, expect, it } from "vitest";
import { chatFixture } from "../support/fixture.ts";
import { unique } from "../support/parley.ts";

const fixture = chatFixture();

/** A channel a native owner made, with Carol from Matrix in it as a moderator. */
async function channelWithCarol(prefix: string) {
  const channel = unique(prefix);
  const owner = await fixture.login(unique("owner"), "Owner");
  const joined = await owner.ok("chat.join", { channel });
  const state = joined.state as { room_id: string; alias: string };
  await fixture.parley.mirrored();
  await fixture.carol.join(state.alias);
  await owner.waitForEvent(
    (e) =>
      e.event_type === "channel.member" &&
      (e.content as { user: { id: string } }).user.id === fixture.carol.userId,
  );
  await owner.ok("chat.set_role", { channel, user: fixture.carol.userId, role: "moderator" });
  await fixture.parley.mirrored();
  return { channel, owner, roomId: state.room_id, alias: state.alias };
}

describe("room state set in Matrix", () => {
  it("a topic, name or avatar set from Matrix reaches subscribed native clients at once", async () => {
    const { channel, owner, roomId } = await channelWithCarol("state");
    const listener = await fixture.login(unique("listener"), "Listener");
    await listener.ok("chat.subscribe", { channel });
    const pushed = (field: string, value: string) =>
      listener.waitFor((f) => f[0] === "chat.state" && (f[1] as Record<string, unknown>)[field] === value);

    await fixture.carol.client.sendStateEvent(roomId, "m.room.topic", "", { topic: "Techno all night" });
    const topic = (await pushed("topic", "Techno all night"))[1];
    expect(topic).toEqual({
      channel,
      topic: "Techno all night",
      room_name: expect.any(String),
      avatar_url: null,
      by: fixture.carol.userId,
    });
    await fixture.carol.client.sendStateEvent(roomId, "m.room.name", "", { name: "Friday Live" });
    await pushed("room_name", "Friday Live");
    const avatar = "mxc://localhost/abcdefghijklmnop";
    await fixture.carol.client.sendStateEvent(roomId, "m.room.avatar", "", { url: avatar });
    expect((await pushed("avatar_url", avatar))[1]).toMatchObject({
      topic: "Techno all night",
      room_name: "Friday Live",
    });
    // The owner's connection (joined) heard it too, and a new subscriber reads it in the state.
    await owner.waitFor(
      (f) => f[0] === "chat.state" && (f[1] as { avatar_url: string }).avatar_url === avatar,
    );
    const late = await fixture.login(unique("late"), "Late");
    const snapshot = await late.ok("chat.subscribe", { channel });
    expect(snapshot.state).toMatchObject({
      topic: "Techno all night",
      room_name: "Friday Live",
      avatar_url: avatar,
    });
  });
});

describe("presence", () => {
  it("a native user's puppet is online on Matrix while connected, offline after the grace period", async () => {
    const name = unique("dot");
    const puppet = `@chat_${name}:${fixture.parley.config.homeserver.serverName}`;
    const presenceOf = async () =>
      String(
        (
          (await fixture.carol.client.doRequest(
            "GET",
            `/_matrix/client/v3/presence/${encodeURIComponent(puppet)}/status`,
          )) as { presence: string }
        ).presence,
      );
    const until = async (expected: string) => {
      const deadline = Date.now() + 10_000;
      for (;;) {
        const now = await presenceOf().catch((error: unknown) => String(error));
        if (now === expected) return;
        if (Date.now() > deadline) throw new Error(`presence never became ${expected}: ${now}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    };
    // Matrix shows presence to those who share a room.
    const { channel } = await channelWithCarol("presence");
    const first = await fixture.login(name, "Dot");
    await first.ok("chat.join", { channel });
    await fixture.parley.mirrored();
    await until("online");
    // A second connection closing leaves them online; the last one closing, offline (after 300 ms here).
    const second = await fixture.login(name, "Dot");
    second.close();
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(await presenceOf()).toBe("online");
    first.close();
    await until("offline");
  });
});

describe("the room directory", () => {
  it("public channels are in Explore rooms, moderators' and direct channels never", async () => {
    const { channel, owner, roomId } = await channelWithCarol("explore");
    const mods = await owner.ok("chat.mod_channel", { channel });
    const friend = unique("friend");
    await fixture.login(friend, "Friend");
    const dm = await owner.ok("chat.direct.create", { users: [`@chat_${friend}:localhost`] });
    await fixture.parley.mirrored();
    const listed = async (term: string, allNetworks: boolean) =>
      (
        (await fixture.carol.client.doRequest("POST", "/_matrix/client/v3/publicRooms", null, {
          filter: { generic_search_term: term },
          ...(allNetworks ? { include_all_networks: true } : {}),
          limit: 50,
        })) as { chunk: Array<{ room_id: string }> }
      ).chunk.map((room) => room.room_id);
    const deadline = Date.now() + 10_000;
    while (!(await listed(channel, false)).includes(roomId)) {
      if (Date.now() > deadline) throw new Error("the channel never showed in the public room list");
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(await listed(channel, true)).toContain(roomId);
    const hidden = [(mods.state as { room_id: string }).room_id, (dm.state as { room_id: string }).room_id];
    for (const all of [false, true]) {
      const rooms = await listed("", all);
      for (const room of hidden) expect(rooms).not.toContain(room);
    }
  });
});
