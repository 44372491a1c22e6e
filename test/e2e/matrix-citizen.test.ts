// Matrix users see what native users see, and the other way round (issue 14): each point read the
// way a Matrix client reads it (room state, /sync, profiles) and the way a native client gets it.
import { createCipheriv, createHash, randomBytes } from "node:crypto";
import sharp from "sharp";
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
    // Whoever opened it owns it (it used to say "user").
    expect(mods.state).toMatchObject({ role: "owner" });
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

describe("files", () => {
  const httpBase = () => fixture.parley.httpUrl();

  it("an uploaded image reaches Matrix with its size, pixel size and a thumbnail", async () => {
    const { channel, owner, roomId } = await channelWithCarol("photo");
    const png = await sharp({ create: { width: 1600, height: 1200, channels: 3, background: "#3366cc" } })
      .png()
      .toBuffer();
    const token = await fixture.parley.token(unique("uploader"), "Uploader");
    const response = await fetch(`${httpBase()}/media/upload?filename=stage.png`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "image/png" },
      body: png,
    });
    const uploaded = (await response.json()) as Record<string, unknown>;
    expect(uploaded).toMatchObject({
      name: "stage.png",
      mimeType: "image/png",
      size: png.length,
      w: 1600,
      h: 1200,
    });
    expect(uploaded.thumbnail_url).toEqual(expect.stringContaining("/media/"));
    const thumbnail = await fetch(String(uploaded.thumbnail_url));
    expect(thumbnail.headers.get("content-type")).toBe("image/jpeg");
    const thumbMeta = await sharp(Buffer.from(await thumbnail.arrayBuffer())).metadata();
    expect([thumbMeta.width, thumbMeta.height]).toEqual([800, 600]);

    // The client posts only url, name and type; Parley adds what it knows, for both worlds.
    const sent = await owner.ok("chat.send", {
      channel,
      event_type: "channel.message",
      content: {
        type: "files",
        files: [{ url: uploaded.url, name: "stage.png", mimeType: "image/png", size: 1 }],
      },
    });
    expect((sent.event as { content: { files: unknown[] } }).content.files[0]).toEqual({
      url: uploaded.url,
      name: "stage.png",
      mimeType: "image/png",
      size: png.length,
      w: 1600,
      h: 1200,
      thumbnail_url: uploaded.thumbnail_url,
    });
    const onMatrix = await fixture.carol.waitForEvent(
      (r) =>
        r.roomId === roomId && r.event.type === "m.room.message" && r.event.content.msgtype === "m.image",
    );
    expect(onMatrix.event.content.info).toEqual({
      mimetype: "image/png",
      size: png.length,
      w: 1600,
      h: 1200,
      thumbnail_url: expect.stringMatching(/^mxc:\/\/localhost\//),
    });
    // Older clients still fetch media unauthenticated: the dev homeserver serves them.
    const mediaId = String(onMatrix.event.content.url).replace("mxc://localhost/", "");
    const legacy = await fetch(
      `${fixture.parley.env.homeserverUrl}/_matrix/media/v3/download/localhost/${mediaId}`,
    );
    expect(legacy.status).toBe(200);
    expect(Buffer.from(await legacy.arrayBuffer()).equals(png)).toBe(true);
  });

  it("an encrypted-style attachment from Matrix reaches native clients readable", async () => {
    const { owner, roomId } = await channelWithCarol("sealed");
    const plain = Buffer.from("set list: 1. Intro 2. Outro\n");
    const key = randomBytes(32);
    const iv = Buffer.concat([randomBytes(8), Buffer.alloc(8)]);
    const cipher = createCipheriv("aes-256-ctr", key, iv);
    const sealed = Buffer.concat([cipher.update(plain), cipher.final()]);
    const mxc = await fixture.carol.client.uploadContent(sealed, "application/octet-stream", "setlist.txt");
    await fixture.carol.client.sendMessage(roomId, {
      msgtype: "m.file",
      body: "setlist.txt",
      file: {
        v: "v2",
        url: mxc,
        key: {
          kty: "oct",
          alg: "A256CTR",
          ext: true,
          key_ops: ["encrypt", "decrypt"],
          k: key.toString("base64url"),
        },
        iv: iv.toString("base64").replace(/=+$/, ""),
        hashes: { sha256: createHash("sha256").update(sealed).digest("base64").replace(/=+$/, "") },
      },
      info: { mimetype: "text/plain", size: plain.length },
    });
    const event = await owner.waitForEvent(
      (e) => e.event_type === "channel.message" && (e.content as { type: string }).type === "files",
    );
    const [file] = (
      event.content as { files: Array<{ url: string; name: string; mimeType: string; size: number }> }
    ).files;
    expect(file).toMatchObject({ name: "setlist.txt", mimeType: "text/plain", size: plain.length });
    const fetched = await fetch(String(file?.url));
    expect(fetched.status).toBe(200);
    expect(fetched.headers.get("content-type")).toBe("text/plain");
    expect(Buffer.from(await fetched.arrayBuffer()).toString()).toBe(plain.toString());
  });
});

describe("moderation as Matrix users see it", () => {
  it("timeouts, slow mode and rules are said in the room and credited to the moderator", async () => {
    const { channel, owner, roomId } = await channelWithCarol("legible");
    const spammerName = unique("spammer");
    const spammer = await fixture.login(spammerName, "Spammer");
    await spammer.ok("chat.join", { channel });
    const spammerId = `@chat_${spammerName}:localhost`;
    const notice = (text: string) =>
      fixture.carol.waitForEvent(
        (r) => r.roomId === roomId && r.event.content.msgtype === "m.notice" && r.event.content.body === text,
        15_000,
        `the notice "${text}"`,
      );

    await owner.ok("chat.timeout", { channel, user: spammerId, duration: 120, reason: "flooding" });
    const said = await notice("Owner timed out Spammer for 2 minutes: flooding");
    expect(said.event.sender).toBe("@parley:localhost");
    const levels = await fixture.carol.waitForEvent(
      (r) =>
        r.roomId === roomId &&
        r.event.type === "m.room.power_levels" &&
        (r.event.content.users as Record<string, number> | undefined)?.[spammerId] === -1,
    );
    // Set by the owner's puppet, not the bot: Element says who did it.
    expect(levels.event.sender).toMatch(/^@chat_owner_/);
    await owner.ok("chat.untimeout", { channel, user: spammerId });
    await notice("Owner lifted Spammer's timeout.");

    await owner.ok("chat.settings", { channel, slow_mode: 30, rules: "Be kind.", rules_required: true });
    await notice("Owner turned slow mode on: one message every 30 seconds (moderators excepted).");
    await notice("Owner set the channel's rules: Native users accept them before posting.\nBe kind.");
    const state = await fixture.carol.waitForEvent(
      (r) => r.roomId === roomId && r.event.type === "org.parley.settings",
    );
    expect(state.event.content).toMatchObject({ slow_mode: 30, rules: "Be kind.", rules_required: true });
    expect(await fixture.carol.client.getRoomStateEvent(roomId, "org.parley.settings", "")).toEqual(
      state.event.content,
    );

    await owner.ok("chat.set_role", { channel, user: spammerId, role: "moderator" });
    const promoted = await fixture.carol.waitForEvent(
      (r) =>
        r.roomId === roomId &&
        r.event.type === "m.room.power_levels" &&
        (r.event.content.users as Record<string, number> | undefined)?.[spammerId] === 50,
    );
    expect(promoted.event.sender).toMatch(/^@chat_owner_/);
  });
});

describe("direct messages both ways", () => {
  it("a DM a native user starts is named for its people in Matrix clients: no alias, no bot, no guest noise", async () => {
    const aliceName = unique("alice");
    const owner = await fixture.login(aliceName, "Alice");
    const dm = await owner.ok("chat.direct.create", { users: [fixture.carol.userId] });
    const roomId = (dm.state as { room_id: string }).room_id;
    expect(dm.state).toMatchObject({ role: "owner" });
    const invite = await fixture.carol.waitForInvite(roomId);
    expect(invite.is_direct).toBe(true);
    await fixture.carol.join(roomId);
    const state = (await fixture.carol.client.getRoomState(roomId)) as Array<{
      type: string;
      state_key: string;
      content: Record<string, unknown>;
    }>;
    const types = state.map((event) => event.type);
    expect(types).not.toContain("m.room.canonical_alias");
    expect(types).not.toContain("m.room.guest_access");
    expect(types).not.toContain("m.room.name");
    const members = state
      .filter((e) => e.type === "m.room.member" && e.content.membership === "join")
      .map((e) => e.state_key);
    // Just the two of them: the bot is not in it, so clients name it after Alice.
    expect(members.sort()).toEqual([fixture.carol.userId, `@chat_${aliceName}:localhost`].sort());
    // And the conversation works both ways.
    await owner.ok("chat.send", {
      channel: dm.id as string,
      event_type: "channel.message",
      content: { type: "text", body: "hi Carol" },
    });
    await fixture.carol.waitForEvent((r) => r.roomId === roomId && r.event.content.body === "hi Carol");
    await fixture.carol.sendText(roomId, "hi Alice");
    await owner.waitForEvent((e) => (e.content as { body?: string }).body === "hi Alice");
  });

  it("a Matrix user's DM invite opens a direct channel for the native user; a blocked one is declined", async () => {
    const bobName = unique("bob");
    const bob = await fixture.login(bobName, "Bob");
    const bobId = `@chat_${bobName}:localhost`;
    const roomId = await fixture.carol.client.createRoom({
      preset: "trusted_private_chat",
      is_direct: true,
      invite: [bobId],
    });
    // Bob's connection is in the new channel at once, with Carol as its other member.
    const joined = await bob.waitForEvent(
      (e) => e.event_type === "channel.member" && (e.content as { user: { id: string } }).user.id === bobId,
    );
    const channel = String(joined.channel);
    expect(channel).toMatch(/^dm\./);
    const members = (await bob.ok("chat.members", { channel })).members as Array<{ id: string }>;
    expect(members.map((m) => m.id).sort()).toEqual([fixture.carol.userId, bobId].sort());
    await fixture.carol.waitForEvent(
      (r) =>
        r.roomId === roomId &&
        r.event.type === "m.room.member" &&
        r.event.state_key === bobId &&
        r.event.content.membership === "join",
    );
    await fixture.carol.sendText(roomId, "hello from Element");
    await bob.waitForEvent(
      (e) => e.channel === channel && (e.content as { body?: string }).body === "hello from Element",
    );
    await bob.ok("chat.send", {
      channel,
      event_type: "channel.message",
      content: { type: "text", body: "hello back" },
    });
    await fixture.carol.waitForEvent((r) => r.roomId === roomId && r.event.content.body === "hello back");

    // An encrypted room (Element's default for new DMs) is declined: Parley could not read it.
    const sealed = await fixture.carol.client.createRoom({
      preset: "trusted_private_chat",
      is_direct: true,
      invite: [bobId],
      initial_state: [
        { type: "m.room.encryption", state_key: "", content: { algorithm: "m.megolm.v1.aes-sha2" } },
      ],
    });
    const refusal = await fixture.carol.waitForEvent(
      (r) =>
        r.roomId === sealed &&
        r.event.type === "m.room.member" &&
        r.event.state_key === bobId &&
        r.event.content.membership === "leave",
    );
    expect(String(refusal.event.content.reason)).toContain("encrypted");

    // Someone who blocked Carol declines her invitation, saying why.
    const daveName = unique("dave");
    const dave = await fixture.login(daveName, "Dave");
    await dave.ok("user.block", { id: fixture.carol.userId });
    const daveId = `@chat_${daveName}:localhost`;
    const other = await fixture.carol.client.createRoom({
      preset: "trusted_private_chat",
      is_direct: true,
      invite: [daveId],
    });
    const declined = await fixture.carol.waitForEvent(
      (r) =>
        r.roomId === other &&
        r.event.type === "m.room.member" &&
        r.event.state_key === daveId &&
        r.event.content.membership === "leave",
    );
    expect(String(declined.event.content.reason)).toContain("does not take your messages");
  });

  it("native users can be found by name, and a full id typed into a client resolves to their profile", async () => {
    const name = unique("zelda");
    await fixture.login(name, "Zelda Quartermain");
    const found = (await fixture.carol.client.doRequest("GET", "/_matrix/client/v3/thirdparty/user/parley", {
      name: "Quartermain",
    })) as Array<{ userid: string; fields: { name: string } }>;
    expect(found).toEqual([
      expect.objectContaining({
        userid: `@chat_${name}:localhost`,
        fields: expect.objectContaining({ name: "Zelda Quartermain" }),
      }),
    ]);
    // The homeserver asks Parley about an id it does not know; Parley brings the puppet into being
    // under the user's name (which may take a moment after their first login).
    const deadline = Date.now() + 10_000;
    for (;;) {
      const profile = await fixture.carol.client.getUserProfile(`@chat_${name}:localhost`);
      if (profile.displayname === "Zelda Quartermain") break;
      if (Date.now() > deadline) throw new Error(`the profile reads ${JSON.stringify(profile)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await expect(
      fixture.carol.client.getUserProfile(`@chat_${unique("nobody")}:localhost`),
    ).rejects.toBeDefined();
  });
});
