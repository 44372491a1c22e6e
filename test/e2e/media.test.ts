// Files: uploads through Parley into the homeserver's content repository, media URLs native
// clients can load, files both ways with Element, and each channel's gallery of media and links.
import { describe, expect, it } from "vitest";
import { bodyOf } from "../support/client.ts";
import { chatFixture } from "../support/fixture.ts";
import { unique } from "../support/parley.ts";

const fixture = chatFixture();

// The smallest valid PNG: 1x1, transparent.
const PNG = Buffer.from(
  "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082",
  "hex",
);

const httpBase = () => fixture.parley.httpUrl();

async function upload(
  token: string | undefined,
  body: Buffer,
  contentType: string,
  filename = "cat.png",
  scheme = "Bearer",
) {
  const response = await fetch(`${httpBase()}/media/upload?filename=${encodeURIComponent(filename)}`, {
    method: "POST",
    headers: { "content-type": contentType, ...(token ? { authorization: `${scheme} ${token}` } : {}) },
    body,
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe("uploads and media URLs", () => {
  it("a native upload lands in the homeserver's media, loads over HTTP, and posts as an image to Element", async () => {
    const name = unique("alice");
    const token = await fixture.parley.token(name, "Alice");
    const uploaded = await upload(token, PNG, "image/png");
    expect(uploaded.status).toBe(200);
    expect(uploaded.body).toMatchObject({ name: "cat.png", mimeType: "image/png", size: PNG.length });
    expect(String(uploaded.body.mxc)).toMatch(/^mxc:\/\/localhost\//);
    const url = String(uploaded.body.url);
    expect(url.startsWith(`${httpBase()}/media/localhost/`)).toBe(true);

    const loaded = await fetch(url);
    expect(loaded.status).toBe(200);
    expect(loaded.headers.get("content-type")).toBe("image/png");
    expect(loaded.headers.get("x-content-type-options")).toBe("nosniff");
    expect(Buffer.from(await loaded.arrayBuffer())).toEqual(PNG);

    const alice = await fixture.login(name);
    const channel = unique("gallery");
    const joined = await alice.ok("chat.join", { channel });
    const roomId = (joined.state as { room_id: string }).room_id;
    await fixture.carol.join(roomId);
    const files = [{ url, name: "cat.png", mimeType: "image/png" }];
    const sent = await alice.ok("chat.send", {
      channel,
      event_type: "channel.message",
      content: { type: "files", files },
    });
    // With what Parley learnt of the upload: its size and pixel size (a 1x1 image needs no thumbnail).
    expect((sent.event as { content: unknown }).content).toEqual({
      type: "files",
      files: [{ ...files[0], size: PNG.length, w: 1, h: 1 }],
    });
    const image = await fixture.carol.waitForEvent(
      (r) => r.roomId === roomId && r.event.content.msgtype === "m.image",
    );
    expect(image.event.content).toMatchObject({
      url: uploaded.body.mxc,
      filename: "cat.png",
      info: { mimetype: "image/png" },
    });
    const viaMatrix = await fixture.carol.client.downloadContent(String(uploaded.body.mxc));
    expect(Buffer.from(viaMatrix.data)).toEqual(PNG);
  });

  it("refuses bad uploads with clear codes", async () => {
    const token = await fixture.parley.token(unique("alice"), "Alice");
    expect(await upload(undefined, PNG, "image/png")).toMatchObject({
      status: 401,
      body: { code: "auth.missing_id_or_token" },
    });
    expect(await upload("not-a-jwt", PNG, "image/png")).toMatchObject({
      status: 401,
      body: { code: "auth.invalid_token" },
    });
    expect(await upload(token, PNG, "application/x-msdownload", "x.exe")).toMatchObject({
      status: 415,
      body: { code: "media.unsupported_type" },
    });
    expect(await upload(token, PNG, "image/png", "")).toMatchObject({
      status: 400,
      body: { code: "media.bad_request" },
    });
    expect(await upload(token, Buffer.alloc(0), "image/png")).toMatchObject({
      status: 400,
      body: { code: "media.bad_request" },
    });
    const tooBig = Buffer.alloc(10 * 1024 * 1024 + 1, 1);
    expect(await upload(token, tooBig, "image/png")).toMatchObject({
      status: 413,
      body: { code: "media.too_large" },
    });
    const missing = await fetch(`${httpBase()}/media/localhost/doesNotExist123`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ code: "media.not_found" });
    // Guests upload with their client id.
    const guest = await upload(crypto.randomUUID(), PNG, "image/png", "g.png", "Guest");
    expect(guest.status).toBe(200);
  });
});

describe("chat.media", () => {
  it("lists the files and links posted in a channel, newest first, without deleted ones, in pages", async () => {
    const name = unique("alice");
    const alice = await fixture.login(name, "Alice");
    const channel = unique("links");
    const joined = await alice.ok("chat.join", { channel });
    const roomId = (joined.state as { room_id: string }).room_id;
    await fixture.carol.join(roomId);
    const uploaded = await upload(await fixture.parley.token(name), PNG, "image/png", "flyer.png");
    const flyer = await alice.ok("chat.send", {
      channel,
      event_type: "channel.message",
      content: {
        type: "files",
        files: [{ url: uploaded.body.url, name: "flyer.png", mimeType: "image/png" }],
      },
    });
    const link = await alice.say(channel, "tickets at https://tickets.example.org/live, see you!");
    const gone = await alice.say(channel, "wrong link https://nope.example.org");
    await alice.ok("chat.send", {
      channel,
      event_type: "channel.message",
      content: { type: "deleted" },
      replaces: gone.event_id,
    });
    await alice.say(channel, "no links here");
    const mxc = await fixture.carol.client.uploadContent(PNG, "image/png", "from-element.png");
    await fixture.carol.client.sendMessage(roomId, {
      msgtype: "m.image",
      body: "from-element.png",
      url: mxc,
      info: { mimetype: "image/png" },
    });
    const elementImage = await alice.waitForEvent(
      (e) => e.sender === fixture.carol.userId && (e.content as { type: string }).type === "files",
    );

    const page = await alice.ok("chat.media", { channel });
    const items = page.items as Array<Record<string, unknown>>;
    expect(items.map((i) => [i.event_id, i.kind, i.url])).toEqual([
      [
        elementImage.event_id,
        "file",
        (elementImage.content as { files: Array<{ url: string }> }).files[0]?.url,
      ],
      [link.event_id, "link", "https://tickets.example.org/live"],
      [(flyer.event as { event_id: number }).event_id, "file", uploaded.body.url],
    ]);
    expect(items[2]).toMatchObject({
      name: "flyer.png",
      mimeType: "image/png",
      sender: joined.members && (joined.members as Array<{ id: string }>)[0]?.id,
    });
    expect(page.next_before_id).toBeNull();

    const first = await alice.ok("chat.media", { channel, count: 1 });
    expect((first.items as Array<{ event_id: number }>).map((i) => i.event_id)).toEqual([
      elementImage.event_id,
    ]);
    const second = await alice.ok("chat.media", { channel, count: 1, before_id: first.next_before_id });
    expect((second.items as Array<{ event_id: number }>).map((i) => i.event_id)).toEqual([link.event_id]);
    // The image Element posted loads through Parley too.
    const loaded = await fetch(
      (elementImage.content as { files: Array<{ url: string }> }).files[0]?.url as string,
    );
    expect(Buffer.from(await loaded.arrayBuffer())).toEqual(PNG);
    expect(bodyOf(link)).toContain("tickets");
    expect(await alice.errorCode("chat.media", { channel: unique("nope") })).toBe("chat.unknown");
  });
});
