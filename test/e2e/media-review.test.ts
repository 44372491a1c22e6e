// Media review against a real Synapse, with an ordinary Matrix user: NSFW marks reach native
// subscribers and fetch; in a channel with media_review "before", a native user's file reaches the
// Matrix room only once a moderator approves it, and a Matrix user's file (which stays in the room,
// see docs/protocol.md) is held from native clients until then, or redacted when rejected.
import { describe, expect, it } from "vitest";
import type { TestClient } from "../support/client.ts";
import { chatFixture } from "../support/fixture.ts";
import { unique } from "../support/parley.ts";

const fixture = chatFixture();

// The smallest valid PNG: 1x1, transparent.
const PNG = Buffer.from(
  "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082",
  "hex",
);

/** Uploads through Parley as `name`; returns the file as a `files` message lists it. */
async function upload(name: string, filename: string) {
  const token = await fixture.parley.token(name);
  const response = await fetch(
    `${fixture.parley.httpUrl()}/media/upload?filename=${encodeURIComponent(filename)}`,
    { method: "POST", headers: { "content-type": "image/png", authorization: `Bearer ${token}` }, body: PNG },
  );
  expect(response.status).toBe(200);
  const body = (await response.json()) as { url: string };
  return { url: body.url, name: filename, mimeType: "image/png" };
}

/** A channel its native owner (a moderator) made, with Carol from Matrix, a poster and a watcher. */
async function scene(review: "off" | "before") {
  const channel = unique("review");
  const names = { owner: unique("owner"), poster: unique("poster"), watcher: unique("watcher") };
  const owner = await fixture.login(names.owner, "Owner");
  const joined = await owner.ok("chat.join", { channel });
  const { room_id: roomId, alias } = joined.state as { room_id: string; alias: string };
  const poster = await fixture.login(names.poster, "Poster");
  const watcher = await fixture.login(names.watcher, "Watcher");
  await poster.ok("chat.join", { channel });
  await watcher.ok("chat.join", { channel });
  if (review === "before") await owner.ok("chat.settings", { channel, media_review: "before" });
  await fixture.parley.mirrored();
  await fixture.carol.join(alias);
  await watcher.waitForEvent(
    (e) =>
      e.event_type === "channel.member" &&
      (e.content as { user: { id: string } }).user.id === fixture.carol.userId,
  );
  return { channel, roomId, owner, poster, watcher, names };
}

const post = async (client: TestClient, channel: string, content: Record<string, unknown>) =>
  (await client.ok("chat.send", { channel, event_type: "channel.message", content })).event as Record<
    string,
    unknown
  >;

const fetched = async (client: TestClient, channel: string, id: unknown) =>
  (await client.fetchAll(channel)).find((e) => e.event_id === id);

const updateOf = (
  client: TestClient,
  id: unknown,
  predicate: (e: Record<string, unknown>) => boolean = () => true,
) =>
  client
    .waitFor(
      (f) =>
        f[0] === "chat.event.update" &&
        (f[1] as { event_id: unknown }).event_id === id &&
        predicate(f[1] as Record<string, unknown>),
    )
    .then((f) => f[1] as Record<string, unknown>);

/** Carol posts an image she uploaded to the homeserver herself, as Element does. */
async function carolPostsImage(roomId: string, filename: string) {
  const mxc = await fixture.carol.client.uploadContent(PNG, "image/png", filename);
  return fixture.carol.client.sendMessage(roomId, {
    msgtype: "m.image",
    body: filename,
    url: mxc,
    info: { mimetype: "image/png", size: PNG.length },
  });
}

describe("NSFW marks", () => {
  it("reach every subscriber as chat.event.update, and fetch and chat.media carry them, for native and Matrix files", async () => {
    const s = await scene("off");
    const native = await post(s.poster, s.channel, {
      type: "files",
      files: [await upload(s.names.poster, "a.png")],
    });
    await carolPostsImage(s.roomId, "b.png");
    const fromMatrix = await s.watcher.waitForEvent(
      (e) => e.sender === fixture.carol.userId && e.event_type === "channel.message",
    );
    for (const event of [native, fromMatrix]) {
      const reply = await s.owner.ok("chat.media.mark", {
        channel: s.channel,
        event: event.event_id,
        nsfw: true,
      });
      expect(reply.event).toMatchObject({ event_id: event.event_id, nsfw: true });
      expect(await updateOf(s.watcher, event.event_id, (e) => e.nsfw === true)).toMatchObject({
        sender: event.sender,
      });
      expect(await fetched(s.watcher, s.channel, event.event_id)).toMatchObject({ nsfw: true });
    }
    const items = (await s.watcher.ok("chat.media", { channel: s.channel })).items as Array<
      Record<string, unknown>
    >;
    expect(
      items
        .filter((i) => i.nsfw === true)
        .map((i) => i.event_id)
        .sort(),
    ).toEqual([native.event_id, fromMatrix.event_id].sort());
    // Cleared again: the next update and fetch are without it.
    await s.owner.ok("chat.media.mark", { channel: s.channel, event: native.event_id, nsfw: false });
    await updateOf(s.watcher, native.event_id, (e) => !("nsfw" in e));
    expect(await fetched(s.watcher, s.channel, native.event_id)).not.toHaveProperty("nsfw");
    // A plain user may not mark.
    expect(
      await s.poster.errorCode("chat.media.mark", { channel: s.channel, event: native.event_id, nsfw: true }),
    ).toBe("chat.denied");
  });
});

describe("media_review: before", () => {
  it("a native user's held file is not in the Matrix room until a moderator approves it", async () => {
    const s = await scene("before");
    const file = await upload(s.names.poster, "held.png");
    const held = await post(s.poster, s.channel, { type: "files", files: [file] });
    expect(held).toMatchObject({ pending_review: true });
    // A message after it reaches Matrix; the held file, which the outbox would have posted first, did not.
    await s.poster.say(s.channel, "after the picture");
    await fixture.carol.waitForEvent(
      (r) => r.roomId === s.roomId && r.event.content.body === "after the picture",
    );
    await fixture.parley.mirrored();
    expect(await fixture.carol.roomBodies(s.roomId)).not.toContain("held.png");
    expect(await fetched(s.watcher, s.channel, held.event_id)).toBeUndefined();
    expect(s.watcher.events(s.channel).map((e) => e.event_id)).not.toContain(held.event_id);
    expect(s.owner.events(s.channel).find((e) => e.event_id === held.event_id)).toMatchObject({
      pending_review: true,
    });

    await s.owner.ok("chat.media.mark", { channel: s.channel, event: held.event_id, nsfw: false });
    const image = await fixture.carol.waitForEvent(
      (r) => r.roomId === s.roomId && r.event.content.msgtype === "m.image",
    );
    expect(image.event.sender).toBe(held.sender);
    expect(image.event.content).toMatchObject({ body: "held.png", info: { mimetype: "image/png" } });
    const update = await updateOf(s.watcher, held.event_id);
    expect(update).toMatchObject({ content: { type: "files" } });
    expect(update).not.toHaveProperty("pending_review");
    expect(await fetched(s.watcher, s.channel, held.event_id)).not.toHaveProperty("pending_review");
  });

  it("a Matrix user's file stays in the room but is held from native clients until approved; a rejected one is redacted", async () => {
    const s = await scene("before");
    const kept = await carolPostsImage(s.roomId, "dog.png");
    const rejected = await carolPostsImage(s.roomId, "bad.png");
    await fixture.carol.sendText(s.roomId, "did you see my dog?");
    await s.watcher.waitForEvent((e) => (e.content as { body?: string }).body === "did you see my dog?");
    const fromCarol = async () =>
      (await s.watcher.fetchAll(s.channel)).filter(
        (e) => e.sender === fixture.carol.userId && e.event_type === "channel.message",
      );
    expect((await fromCarol()).map((e) => (e.content as { body?: string }).body)).toEqual([
      "did you see my dog?",
    ]);
    const heldForOwner = (await s.owner.fetchAll(s.channel)).filter((e) => e.pending_review === true);
    expect(heldForOwner.map((e) => (e.content as { files: Array<{ name: string }> }).files[0]?.name)).toEqual(
      ["dog.png", "bad.png"],
    );
    const [dog, bad] = heldForOwner;
    // Still in the room for Matrix users: Parley holds it from native clients only.
    expect(await fixture.carol.roomBodies(s.roomId)).toEqual(expect.arrayContaining(["dog.png", "bad.png"]));

    await s.owner.ok("chat.media.mark", { channel: s.channel, event: dog?.event_id, nsfw: true });
    expect(await updateOf(s.watcher, dog?.event_id)).toMatchObject({
      nsfw: true,
      sender: fixture.carol.userId,
    });
    expect(await fetched(s.watcher, s.channel, dog?.event_id)).toMatchObject({ nsfw: true });

    // Rejected: deleted natively, which the moderator's puppet redacts in the room.
    await s.owner.ok("chat.send", {
      channel: s.channel,
      event_type: "channel.message",
      content: { type: "deleted" },
      replaces: bad?.event_id,
    });
    const redaction = await fixture.carol.waitForEvent(
      (r) => r.roomId === s.roomId && r.event.type === "m.room.redaction" && r.event.redacts === rejected,
    );
    expect(redaction.event.sender).toBe(
      `@chat_${s.names.owner}:${fixture.parley.config.homeserver.serverName}`,
    );
    expect(await fixture.carol.roomBodies(s.roomId)).not.toContain("bad.png");
    expect(await fixture.carol.roomBodies(s.roomId)).toContain("dog.png");
    expect(kept).toMatch(/^\$/);
    // The watcher never heard of the rejected file nor of its deletion.
    expect((await fromCarol()).map((e) => e.event_id)).not.toContain(bad?.event_id);
    const heard = s.watcher.received.filter((f) => f[0] === "chat.event" || f[0] === "chat.event.update");
    expect(heard.map((f) => (f[1] as { event_id: unknown }).event_id)).not.toContain(bad?.event_id);
    expect(heard.some((f) => (f[1] as { replaces?: unknown }).replaces === bad?.event_id)).toBe(false);
  });
});
