// Media review through the domain and a real socket, with a fake homeserver: moderators' NSFW
// marks (pushes, fetch, chat.media), every refusal, and the "before" setting holding files from
// native and Matrix users from everyone but moderators and the sender until a moderator marks them,
// with nothing of a held native post reaching Matrix before then.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestClient } from "../support/client.ts";
import { type Middle, puppet, startMiddle } from "../support/middle.ts";
import { unique } from "../support/parley.ts";

let m: Middle;
beforeAll(async () => {
  m = await startMiddle();
});
afterAll(async () => {
  await m?.stop();
});

interface Cast {
  channel: string;
  roomId: string;
  owner: TestClient;
  mod: TestClient;
  user: TestClient;
  other: TestClient;
  names: { owner: string; mod: string; user: string; other: string };
}

/** A channel with its owner, a moderator, a user who posts files and another who watches. */
async function cast(review: "off" | "before" = "off"): Promise<Cast> {
  const channel = unique("media");
  const names = { owner: unique("owner"), mod: unique("mod"), user: unique("user"), other: unique("other") };
  const owner = await m.login(names.owner, "Owner");
  const mod = await m.login(names.mod, "Mod");
  const user = await m.login(names.user, "User");
  const other = await m.login(names.other, "Other");
  const joined = await owner.ok("chat.join", { channel });
  for (const client of [mod, user, other]) await client.ok("chat.join", { channel });
  await owner.ok("chat.set_role", { channel, user: puppet(names.mod), role: "moderator" });
  if (review === "before") await mod.ok("chat.settings", { channel, media_review: "before" });
  await m.settle();
  return { channel, roomId: (joined.state as { room_id: string }).room_id, owner, mod, user, other, names };
}

const picture = (name = "cat.png") => ({
  type: "files",
  files: [{ url: `https://example.org/${name}`, name, mimeType: "image/png" }],
});

const post = async (client: TestClient, channel: string, content: Record<string, unknown>, extra = {}) =>
  (await client.ok("chat.send", { channel, event_type: "channel.message", content, ...extra }))
    .event as Record<string, unknown>;

const fetched = async (client: TestClient, channel: string, id: unknown) =>
  (await client.fetchAll(channel)).find((e) => e.event_id === id);

const gallery = async (client: TestClient, channel: string) =>
  (await client.ok("chat.media", { channel })).items as Array<Record<string, unknown>>;

const updates = (client: TestClient, channel: string) =>
  client.received
    .filter((f) => f[0] === "chat.event.update")
    .map((f) => f[1] as Record<string, unknown>)
    .filter((e) => e.channel === channel);

/** The messages with our files the homeserver has in the room (what Matrix users see). */
const filesInRoom = (roomId: string) =>
  m.fake
    .room(roomId)
    .events.filter(
      (e) => e.type === "m.room.message" && String(e.content.body).includes("https://example.org/"),
    );

describe("chat.media.mark", () => {
  it("flags a message's files for everyone: the update push, fetch and chat.media; false clears it", async () => {
    const c = await cast();
    const sent = await post(c.user, c.channel, picture());
    expect(sent).not.toHaveProperty("nsfw");
    expect(sent).not.toHaveProperty("pending_review");
    const marked = await c.mod.ok("chat.media.mark", {
      channel: c.channel,
      event: sent.event_id,
      nsfw: true,
    });
    expect(marked.event).toMatchObject({ event_id: sent.event_id, nsfw: true, content: picture() });
    for (const client of [c.owner, c.user, c.other, c.mod]) {
      const update = await client.waitFor(
        (f) => f[0] === "chat.event.update" && (f[1] as { nsfw?: boolean }).nsfw === true,
      );
      expect(update[1]).toMatchObject({ channel: c.channel, event_id: sent.event_id, nsfw: true });
    }
    expect(await fetched(c.other, c.channel, sent.event_id)).toMatchObject({ nsfw: true });
    expect((await gallery(c.other, c.channel)).find((i) => i.event_id === sent.event_id)).toMatchObject({
      kind: "file",
      nsfw: true,
    });

    await c.mod.ok("chat.media.mark", { channel: c.channel, event: sent.event_id, nsfw: false });
    await c.other.waitFor((f) => f[0] === "chat.event.update" && !("nsfw" in (f[1] as object)));
    expect(updates(c.other, c.channel).map((u) => u.nsfw ?? false)).toEqual([true, false]);
    expect(await fetched(c.other, c.channel, sent.event_id)).not.toHaveProperty("nsfw");
    expect((await gallery(c.other, c.channel)).find((i) => i.event_id === sent.event_id)).not.toHaveProperty(
      "nsfw",
    );
    // Not a new event: nothing more was logged or posted for it.
    await m.settle();
    expect(c.other.events(c.channel).filter((e) => e.event_id === sent.event_id)).toHaveLength(1);
    expect(filesInRoom(c.roomId)).toHaveLength(1);
  });

  it("marks a Matrix user's files too", async () => {
    const c = await cast();
    const carolId = `@${unique("carol")}:localhost`;
    const carol = m.fake.asMatrixUser(carolId, "Carol");
    carol.join(c.roomId);
    carol.send(c.roomId, { msgtype: "m.image", body: "dog.png", url: "mxc://localhost/dog" });
    await m.settle();
    const logged = await c.other.waitForEvent(
      (e) => e.sender === carolId && e.event_type === "channel.message",
    );
    await c.mod.ok("chat.media.mark", { channel: c.channel, event: logged.event_id, nsfw: true });
    await c.other.waitFor(
      (f) => f[0] === "chat.event.update" && (f[1] as { sender?: string }).sender === carolId,
    );
    expect(await fetched(c.other, c.channel, logged.event_id)).toMatchObject({ sender: carolId, nsfw: true });
  });

  it("refuses users below moderator, and anything but a message with files, changing nothing", async () => {
    const c = await cast();
    const files = await post(c.user, c.channel, picture());
    const text = await c.user.say(c.channel, "no files here");
    const doomed = await post(c.user, c.channel, picture("gone.png"));
    await post(c.user, c.channel, { type: "deleted" }, { replaces: doomed.event_id });
    const mark = (event: unknown, nsfw = true) => ({ channel: c.channel, event, nsfw });

    expect(await c.user.errorCode("chat.media.mark", mark(files.event_id))).toBe("chat.denied");
    expect(await c.other.errorCode("chat.media.mark", mark(files.event_id))).toBe("chat.denied");
    expect(await c.mod.errorCode("chat.media.mark", mark(text.event_id))).toBe("chat.unknown_event");
    expect(await c.mod.errorCode("chat.media.mark", mark(doomed.event_id))).toBe("chat.unknown_event");
    expect(await c.mod.errorCode("chat.media.mark", mark(9999))).toBe("chat.unknown_event");
    const member = (await c.other.fetchAll(c.channel)).find((e) => e.event_type === "channel.member");
    expect(await c.mod.errorCode("chat.media.mark", mark(member?.event_id))).toBe("chat.unknown_event");
    expect(await c.mod.errorCode("chat.media.mark", { channel: c.channel, event: files.event_id })).toBe(
      "protocol.invalid_payload",
    );
    expect(
      await c.mod.errorCode("chat.media.mark", { ...mark(files.event_id), channel: unique("nope") }),
    ).toBe("chat.unknown");
    expect(await c.user.errorCode("chat.settings", { channel: c.channel, media_review: "before" })).toBe(
      "chat.denied",
    );
    expect(await c.mod.errorCode("chat.settings", { channel: c.channel, media_review: "after" })).toBe(
      "protocol.invalid_payload",
    );
    await m.settle();
    expect(await fetched(c.other, c.channel, files.event_id)).not.toHaveProperty("nsfw");
    for (const client of [c.owner, c.mod, c.user, c.other]) expect(updates(client, c.channel)).toEqual([]);
    const state = (await c.other.ok("chat.subscribe", { channel: c.channel })).state as {
      settings: Record<string, unknown>;
    };
    expect(state.settings.media_review).toBe("off");
  });
});

describe("media_review: before", () => {
  it("is a setting moderators change, pushed and kept in the room's state", async () => {
    const c = await cast();
    const reply = await c.mod.ok("chat.settings", { channel: c.channel, media_review: "before" });
    expect(reply.settings).toMatchObject({ media_review: "before" });
    const push = await c.other.waitFor((f) => f[0] === "chat.settings");
    expect(push[1]).toMatchObject({ settings: { media_review: "before" }, by: puppet(c.names.mod) });
    await m.settle();
    const state = m.fake
      .callsOf("setRoomState")
      .filter((call) => call.args[0] === c.roomId)
      .at(-1);
    expect(state?.args[2]).toMatchObject({ media_review: "before" });
  });

  it("holds a user's files from everyone but moderators and the sender, and from Matrix, until approved", async () => {
    const c = await cast("before");
    const held = await post(c.user, c.channel, picture());
    expect(held).toMatchObject({ pending_review: true });
    // Text, and a moderator's own files, are not held.
    const text = await c.user.say(c.channel, "look at https://example.com/cat.png");
    const modFiles = await post(c.mod, c.channel, picture("mod.png"));
    expect(text).not.toHaveProperty("pending_review");
    expect(modFiles).not.toHaveProperty("pending_review");
    await m.settle();

    for (const client of [c.mod, c.owner, c.user]) {
      const pushed = client.events(c.channel).find((e) => e.event_id === held.event_id);
      expect(pushed).toMatchObject({ pending_review: true });
      expect(await fetched(client, c.channel, held.event_id)).toMatchObject({ pending_review: true });
      expect((await gallery(client, c.channel)).find((i) => i.event_id === held.event_id)).toMatchObject({
        pending_review: true,
      });
    }
    // It takes no reactions while held (their pushes would tell everyone of it).
    expect(
      await c.mod.errorCode("chat.react", { channel: c.channel, event: held.event_id, reaction: "👍" }),
    ).toBe("chat.unknown_event");
    expect(c.other.events(c.channel).map((e) => e.event_id)).toContain(text.event_id);
    expect(c.other.events(c.channel).map((e) => e.event_id)).not.toContain(held.event_id);
    expect(await fetched(c.other, c.channel, held.event_id)).toBeUndefined();
    const pointers = c.other.received.filter((f) => f[0] === "chat.unread_pointers").map((f) => f[1]);
    expect(pointers).not.toContainEqual({ [c.channel]: held.event_id });
    expect((await gallery(c.other, c.channel)).map((i) => i.event_id)).not.toContain(held.event_id);
    // Nothing of it in the room: the moderator's files are, the held ones are not.
    expect(filesInRoom(c.roomId).map((e) => e.sender)).toEqual([puppet(c.names.mod)]);

    const approved = await c.mod.ok("chat.media.mark", {
      channel: c.channel,
      event: held.event_id,
      nsfw: false,
    });
    expect(approved.event).not.toHaveProperty("pending_review");
    const update = await c.other.waitFor((f) => f[0] === "chat.event.update");
    expect(update[1]).toMatchObject({
      event_id: held.event_id,
      content: picture(),
      sender: puppet(c.names.user),
    });
    expect(update[1]).not.toHaveProperty("pending_review");
    expect(await fetched(c.other, c.channel, held.event_id)).not.toHaveProperty("pending_review");
    expect((await gallery(c.other, c.channel)).map((i) => i.event_id)).toContain(held.event_id);
    await m.settle();
    expect(filesInRoom(c.roomId).map((e) => e.sender)).toEqual([puppet(c.names.mod), puppet(c.names.user)]);
    // Approving again changes the flag only: it is posted once.
    await c.mod.ok("chat.media.mark", { channel: c.channel, event: held.event_id, nsfw: true });
    await m.settle();
    expect(filesInRoom(c.roomId)).toHaveLength(2);
  });

  it("approving with nsfw true flags it as it shows it; a held message's edits are held with it and mirrored as they left it", async () => {
    const c = await cast("before");
    const held = await post(c.user, c.channel, picture("first.png"));
    const edit = await post(c.user, c.channel, picture("second.png"), { replaces: held.event_id });
    expect(edit).toMatchObject({ pending_review: true });
    await m.settle();
    expect(c.other.events(c.channel).map((e) => e.event_id)).not.toContain(edit.event_id);
    expect(filesInRoom(c.roomId)).toEqual([]);
    await c.mod.ok("chat.media.mark", { channel: c.channel, event: held.event_id, nsfw: true });
    const update = await c.other.waitFor((f) => f[0] === "chat.event.update");
    expect(update[1]).toMatchObject({ event_id: held.event_id, nsfw: true, content: picture("second.png") });
    await m.settle();
    const inRoom = filesInRoom(c.roomId);
    expect(inRoom.map((e) => e.content.body)).toEqual(["second.png: https://example.org/second.png"]);
    // The nsfw flag is Parley's: Matrix gets the files as they are.
    expect(JSON.stringify(inRoom[0]?.content)).not.toContain("nsfw");
  });

  it("a moderator rejects a held message by deleting it: nobody else hears of either, nothing reaches Matrix", async () => {
    const c = await cast("before");
    const held = await post(c.user, c.channel, picture());
    const before = m.fake.calls.length;
    const deletion = await post(c.mod, c.channel, { type: "deleted" }, { replaces: held.event_id });
    expect(deletion).toMatchObject({ pending_review: true });
    await m.settle();
    expect(c.user.events(c.channel).map((e) => e.event_id)).toContain(deletion.event_id);
    const seen = c.other.events(c.channel).map((e) => e.event_id);
    expect(seen).not.toContain(held.event_id);
    expect(seen).not.toContain(deletion.event_id);
    const ids = (await c.other.fetchAll(c.channel)).map((e) => e.event_id);
    expect(ids).not.toContain(held.event_id);
    expect(ids).not.toContain(deletion.event_id);
    expect(
      await c.mod.errorCode("chat.media.mark", { channel: c.channel, event: held.event_id, nsfw: false }),
    ).toBe("chat.unknown_event");
    const mirrored = m.fake.calls
      .slice(before)
      .filter((call) => ["sendMessage", "redact"].includes(call.method) && call.args[0] === c.roomId);
    expect(mirrored).toEqual([]);
    expect(filesInRoom(c.roomId)).toEqual([]);
  });

  it("a held message cannot be replied to or deleted by those it is held from: it does not exist for them", async () => {
    const c = await cast("before");
    const held = await post(c.user, c.channel, picture("secret.png"));
    const send = (
      extra: Record<string, unknown>,
      content: Record<string, unknown> = { type: "text", body: "?" },
    ) => ({
      channel: c.channel,
      event_type: "channel.message",
      content,
      ...extra,
    });
    expect(await c.other.errorCode("chat.send", send({ reply_to: held.event_id }))).toBe(
      "chat.unknown_event",
    );
    expect(await c.other.errorCode("chat.send", send({ replaces: held.event_id }, { type: "deleted" }))).toBe(
      "chat.unknown_event",
    );
    // Its sender and the moderators see it, and may answer it.
    await c.user.ok("chat.send", send({ reply_to: held.event_id }));
    await c.mod.ok("chat.send", send({ reply_to: held.event_id }));
  });

  it("an edit may not bring files into a message everyone sees", async () => {
    const c = await cast("before");
    const text = await c.user.say(c.channel, "soon a picture");
    expect(
      await c.user.errorCode("chat.send", {
        channel: c.channel,
        event_type: "channel.message",
        content: picture(),
        replaces: text.event_id,
      }),
    ).toBe("chat.denied");
    expect((await fetched(c.other, c.channel, text.event_id))?.content).toEqual({
      type: "text",
      body: "soon a picture",
    });
  });

  it("holds a Matrix user's files from native clients (they stay in the room) until a moderator approves them", async () => {
    const c = await cast("before");
    const carolId = `@${unique("carol")}:localhost`;
    const carol = m.fake.asMatrixUser(carolId, "Carol");
    carol.join(c.roomId);
    const kept = carol.send(c.roomId, { msgtype: "m.image", body: "dog.png", url: "mxc://localhost/dog" });
    const rejected = carol.send(c.roomId, {
      msgtype: "m.image",
      body: "bad.png",
      url: "mxc://localhost/bad",
    });
    carol.send(c.roomId, { msgtype: "m.text", body: "did you see my dog?" });
    await m.settle();
    const held = c.mod.events(c.channel).filter((e) => e.sender === carolId && e.pending_review === true);
    expect(held.map((e) => (e.content as { files: Array<{ name: string }> }).files[0]?.name)).toEqual([
      "dog.png",
      "bad.png",
    ]);
    const [dog, bad] = held;
    carol.react(c.roomId, kept, "🐶");
    await m.settle();
    expect(c.other.received.filter((f) => f[0] === "chat.event.reaction")).toEqual([]);
    const otherSees = c.other
      .events(c.channel)
      .filter((e) => e.sender === carolId && e.event_type === "channel.message");
    expect(otherSees.map((e) => (e.content as { body?: string }).body)).toEqual(["did you see my dog?"]);
    const carolsMessages = async () =>
      (await c.other.fetchAll(c.channel)).filter(
        (e) => e.sender === carolId && e.event_type === "channel.message",
      );
    expect(await carolsMessages()).toHaveLength(1);
    expect(m.fake.room(c.roomId).events.map((e) => e.event_id)).toEqual(
      expect.arrayContaining([kept, rejected]),
    );

    await c.mod.ok("chat.media.mark", { channel: c.channel, event: dog?.event_id, nsfw: false });
    const update = await c.other.waitFor((f) => f[0] === "chat.event.update");
    expect(update[1]).toMatchObject({ event_id: dog?.event_id, sender: carolId });
    expect(update[1]).not.toHaveProperty("pending_review");
    expect(await fetched(c.other, c.channel, dog?.event_id)).toMatchObject({ sender: carolId });

    // Rejected: deleted natively, which redacts it in the room.
    await post(c.mod, c.channel, { type: "deleted" }, { replaces: bad?.event_id });
    await m.settle();
    expect(m.fake.callsOf("redact").some((call) => call.args[2] === rejected)).toBe(true);
    expect(
      c.other.events(c.channel).filter((e) => e.sender === carolId && e.event_type === "channel.message"),
    ).toHaveLength(1);
    expect((await c.other.fetchAll(c.channel)).map((e) => e.event_id)).not.toContain(bad?.event_id);
  });
});
