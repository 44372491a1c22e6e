// Rich messaging both ways between a native client and an ordinary Matrix user: content types,
// formatted text, replies, mentions, edits, deletes, reactions and typing.
import { describe, expect, it } from "vitest";
import { bodyOf, type TestClient } from "../support/client.ts";
import { chatFixture } from "../support/fixture.ts";
import { accessTokenOf, followEphemeral } from "../support/matrix-sync.ts";
import type { RoomEventRecord } from "../support/matrix-user.ts";
import { unique } from "../support/parley.ts";

const fixture = chatFixture();

async function setUp(name: string) {
  const channel = unique(name);
  const alice = await fixture.login(unique("alice"), "Alice");
  const joined = await alice.ok("chat.join", { channel });
  const roomId = (joined.state as { room_id: string }).room_id;
  const aliceId = (joined.members as Array<{ id: string }>)[0]?.id as string;
  await fixture.carol.join(roomId);
  await alice.waitForEvent((e) => e.sender === fixture.carol.userId);
  return { channel, alice, roomId, aliceId };
}

const onMatrix = (roomId: string, predicate: (r: RoomEventRecord) => boolean, what = "an event") =>
  fixture.carol.waitForEvent((r) => r.roomId === roomId && predicate(r), 15_000, what);
const bodyIs = (body: string) => (r: RoomEventRecord) => r.event.content.body === body;

describe("content types", () => {
  it("emote and notice travel both ways; bad content is refused and changes nothing", async () => {
    const { channel, alice, roomId } = await setUp("kinds");
    await alice.say(channel, "waves", {});
    await alice.ok("chat.send", {
      channel,
      event_type: "channel.message",
      content: { type: "emote", body: "dances" },
    });
    await alice.ok("chat.send", {
      channel,
      event_type: "channel.message",
      content: { type: "notice", body: "now playing" },
    });
    expect((await onMatrix(roomId, bodyIs("dances"))).event.content.msgtype).toBe("m.emote");
    expect((await onMatrix(roomId, bodyIs("now playing"))).event.content.msgtype).toBe("m.notice");

    await fixture.carol.client.sendMessage(roomId, { msgtype: "m.emote", body: "claps" });
    await fixture.carol.client.sendNotice(roomId, "a bot speaks");
    expect((await alice.waitForEvent((e) => bodyOf(e) === "claps")).content).toEqual({
      type: "emote",
      body: "claps",
    });
    expect((await alice.waitForEvent((e) => bodyOf(e) === "a bot speaks")).content).toEqual({
      type: "notice",
      body: "a bot speaks",
    });

    const before = (await alice.ok("chat.subscribe", { channel })).next_event_id;
    const send = (content: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
      alice.errorCode("chat.send", { channel, event_type: "channel.message", content, ...extra });
    expect(await send({ type: "hologram", body: "x" })).toBe("chat.unsupported_content_type");
    expect(await send({ type: "text", body: "" })).toBe("chat.empty");
    expect(await send({ type: "deleted" })).toBe("protocol.invalid_payload");
    expect(await send({ type: "files", files: [] })).toBe("protocol.invalid_payload");
    expect(
      await send({
        type: "files",
        files: [{ url: "javascript:alert(1)", name: "x", mimeType: "text/plain" }],
      }),
    ).toBe("protocol.invalid_payload");
    expect(await send({ type: "text", body: "hi" }, { reply_to: 9999 })).toBe("chat.unknown_event");
    expect((await alice.ok("chat.subscribe", { channel })).next_event_id).toBe(before);
  });

  it("Matrix HTML arrives as safe plain text, never as markup", async () => {
    const { alice, roomId } = await setUp("html");
    await fixture.carol.client.sendMessage(roomId, {
      msgtype: "m.text",
      body: "**bold** plain fallback",
      format: "org.matrix.custom.html",
      formatted_body: '<b>bold</b> <script>alert("x")</script><a href="https://example.org">a link</a>',
    });
    const event = await alice.waitForEvent((e) => (bodyOf(e) ?? "").startsWith("bold"));
    expect(bodyOf(event)).toBe("bold a link [https://example.org]");
    expect(bodyOf(event)).not.toMatch(/<|script|alert/);
  });

  it("files: an external link from a native client, and an image from Element with a loadable URL", async () => {
    const { channel, alice, roomId } = await setUp("files");
    const files = [{ url: "https://example.org/set.mp3", name: "set.mp3", mimeType: "audio/mpeg" }];
    const sent = await alice.ok("chat.send", {
      channel,
      event_type: "channel.message",
      content: { type: "files", files, body: "tonight's set" },
    });
    expect((sent.event as { content: unknown }).content).toEqual({
      type: "files",
      files,
      body: "tonight's set",
    });
    const matrixSide = await onMatrix(roomId, (r) =>
      String(r.event.content.body).startsWith("tonight's set"),
    );
    expect(matrixSide.event.content.body).toContain("https://example.org/set.mp3");

    const mxc = await fixture.carol.client.uploadContent(Buffer.from("GIF89a-fake"), "image/gif", "cat.gif");
    await fixture.carol.client.sendMessage(roomId, {
      msgtype: "m.image",
      body: "cat.gif",
      url: mxc,
      info: { mimetype: "image/gif" },
    });
    const image = await alice.waitForEvent(
      (e) => (e.content as { type: string }).type === "files" && e.sender === fixture.carol.userId,
    );
    const [file] = (image.content as { files: Array<{ url: string; name: string; mimeType: string }> }).files;
    expect(file).toMatchObject({ name: "cat.gif", mimeType: "image/gif" });
    expect(file?.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/media\/localhost\/[A-Za-z0-9_-]+$/);
  });
});

describe("replies and mentions", () => {
  it("replies point at the message both ways; a mention notifies the native member and counts", async () => {
    const { channel, alice, roomId, aliceId } = await setUp("reply");
    const question = await alice.say(channel, "who is playing?");
    const onElement = await onMatrix(roomId, bodyIs("who is playing?"));
    // No mention: an empty m.mentions, so Matrix keyword rules do not highlight it.
    expect(onElement.event.content["m.mentions"]).toEqual({});
    expect(onElement.event.content.formatted_body).toBeUndefined();
    await alice.say(channel, "answer me", { reply_to: question.event_id });
    const reply = await onMatrix(roomId, bodyIs("answer me"));
    expect(reply.event.content["m.relates_to"]).toEqual({
      "m.in_reply_to": { event_id: onElement.event.event_id },
    });

    // Element replies and mentions Alice with a pill and m.mentions.
    await fixture.carol.client.sendMessage(roomId, {
      msgtype: "m.text",
      body: "Alice: DJ Koze",
      format: "org.matrix.custom.html",
      formatted_body: `<a href="https://matrix.to/#/${aliceId}">Alice</a>: DJ Koze`,
      "m.relates_to": { "m.in_reply_to": { event_id: onElement.event.event_id } },
      "m.mentions": { user_ids: [aliceId] },
    });
    const answer = await alice.waitForEvent((e) => bodyOf(e) === "Alice: DJ Koze");
    expect(answer.reply_to).toBe(question.event_id);
    const notification = await alice.waitFor((f) => f[0] === "chat.notification");
    expect(notification[1]).toEqual({
      event: answer,
      sender: { id: fixture.carol.userId, profile: { display_name: "Carol", avatar_url: null } },
    });
    await alice.waitFor(
      (f) => f[0] === "chat.notification_counts" && (f[1] as Record<string, number>)[channel] === 1,
    );
    // Reading past it clears the count, on every connection.
    await alice.ok("chat.mark_read", { channel, id: answer.event_id });
    await alice.waitFor(
      (f) => f[0] === "chat.notification_counts" && (f[1] as Record<string, number>)[channel] === undefined,
    );

    // A native mention of a Matrix user is a Matrix mention.
    await alice.say(channel, `thanks ${fixture.carol.userId}`);
    const mention = await onMatrix(roomId, bodyIs(`thanks ${fixture.carol.userId}`));
    expect(mention.event.content["m.mentions"]).toEqual({ user_ids: [fixture.carol.userId] });
    // ... and a pill, as Element draws it.
    expect(mention.event.content.format).toBe("org.matrix.custom.html");
    expect(mention.event.content.formatted_body).toBe(
      `thanks <a href="https://matrix.to/#/${encodeURIComponent(fixture.carol.userId)}">${fixture.carol.userId}</a>`,
    );
  });
});

describe("edits and deletes", () => {
  it("native edits and deletes show in Element; fetch returns the latest version", async () => {
    const { channel, alice, roomId } = await setUp("edit");
    const original = await alice.say(channel, "helo");
    const onElement = await onMatrix(roomId, bodyIs("helo"));
    const edit = await alice.say(channel, "hello", { replaces: original.event_id });
    expect(edit.replaces).toBe(original.event_id);
    const matrixEdit = await onMatrix(roomId, bodyIs("* hello"));
    expect(matrixEdit.event.content["m.new_content"]).toMatchObject({ msgtype: "m.text", body: "hello" });
    expect(matrixEdit.event.content["m.relates_to"]).toEqual({
      rel_type: "m.replace",
      event_id: onElement.event.event_id,
    });

    const doomed = await alice.say(channel, "oops");
    const doomedOnElement = await onMatrix(roomId, bodyIs("oops"));
    const deletion = await alice.ok("chat.send", {
      channel,
      event_type: "channel.message",
      content: { type: "deleted" },
      replaces: doomed.event_id,
    });
    expect(deletion.event).toMatchObject({ content: { type: "deleted" }, replaces: doomed.event_id });
    await onMatrix(
      roomId,
      (r) =>
        r.event.type === "m.room.redaction" &&
        (r.event as { redacts?: string }).redacts === doomedOnElement.event.event_id,
    );

    const fetched = (await alice.ok("chat.fetch", { channel, count: 50 })).results as Array<
      Record<string, unknown>
    >;
    expect(fetched.find((e) => e.event_id === original.event_id)).toMatchObject({
      content: { type: "text", body: "hello" },
      edited: true,
    });
    expect(fetched.find((e) => e.event_id === doomed.event_id)).toMatchObject({
      content: { type: "deleted" },
      edited: true,
    });
    expect(fetched.find((e) => e.event_id === edit.event_id)).toMatchObject({ replaces: original.event_id });
  });

  it("Element edits and redactions reach native clients the same way", async () => {
    const { channel, alice, roomId } = await setUp("element-edit");
    const eventId = await fixture.carol.sendText(roomId, "typo");
    const original = await alice.waitForEvent((e) => bodyOf(e) === "typo");
    await fixture.carol.client.sendMessage(roomId, {
      msgtype: "m.text",
      body: "* fixed",
      "m.new_content": { msgtype: "m.text", body: "fixed" },
      "m.relates_to": { rel_type: "m.replace", event_id: eventId },
    });
    const edit = await alice.waitForEvent((e) => bodyOf(e) === "fixed");
    expect(edit).toMatchObject({ replaces: original.event_id, sender: fixture.carol.userId });
    await fixture.carol.client.redactEvent(roomId, eventId, "changed my mind");
    const deletion = await alice.waitForEvent((e) => (e.content as { type: string }).type === "deleted");
    expect(deletion.replaces).toBe(original.event_id);
    const fetched = (await alice.ok("chat.fetch", { channel, count: 50 })).results as Array<
      Record<string, unknown>
    >;
    expect(fetched.find((e) => e.event_id === original.event_id)?.content).toEqual({ type: "deleted" });
  });

  it("only the sender may edit, and only the sender or a moderator may delete", async () => {
    const { channel, alice, roomId } = await setUp("rights");
    const bob = await fixture.login(unique("bob"), "Bob");
    await bob.ok("chat.join", { channel });
    const mine = await alice.say(channel, "mine");
    expect(
      await bob.errorCode("chat.send", {
        channel,
        event_type: "channel.message",
        content: { type: "text", body: "hijack" },
        replaces: mine.event_id,
      }),
    ).toBe("chat.denied");
    expect(
      await bob.errorCode("chat.send", {
        channel,
        event_type: "channel.message",
        content: { type: "deleted" },
        replaces: mine.event_id,
      }),
    ).toBe("chat.denied");
    await fixture.carol.sendText(roomId, "carol's");
    const carols = await alice.waitForEvent((e) => bodyOf(e) === "carol's");
    expect(
      await alice.errorCode("chat.send", {
        channel,
        event_type: "channel.message",
        content: { type: "text", body: "x" },
        replaces: carols.event_id,
      }),
    ).toBe("chat.denied");
    const fetched = (await alice.ok("chat.fetch", { channel, count: 50 })).results as Array<
      Record<string, unknown>
    >;
    expect(fetched.find((e) => e.event_id === mine.event_id)?.content).toEqual({
      type: "text",
      body: "mine",
    });
  });
});

describe("reactions", () => {
  it("reactions both ways, with the full summary, one per user per key, persistent in fetch", async () => {
    const { channel, alice, roomId, aliceId } = await setUp("react");
    const message = await alice.say(channel, "drop the bass");
    const onElement = await onMatrix(roomId, bodyIs("drop the bass"));
    await alice.ok("chat.react", { channel, event: message.event_id, reaction: "🔥" });
    await alice.ok("chat.react", { channel, event: message.event_id, reaction: "🔥" }); // once per user and key
    const pushed = await alice.waitFor((f) => f[0] === "chat.event.reaction");
    await alice.say(channel, "marker after reacting twice");
    await onMatrix(roomId, bodyIs("marker after reacting twice"));
    expect(alice.received.filter((f) => f[0] === "chat.event.reaction")).toHaveLength(1);
    expect(
      fixture.carol.events.filter((r) => r.roomId === roomId && r.event.type === "m.reaction"),
    ).toHaveLength(1);
    expect(pushed[1]).toMatchObject({ channel, event: message.event_id, reactions: { "🔥": [aliceId] } });
    const annotation = await onMatrix(roomId, (r) => r.event.type === "m.reaction");
    expect(annotation.event.content["m.relates_to"]).toEqual({
      rel_type: "m.annotation",
      event_id: onElement.event.event_id,
      key: "🔥",
    });

    const carolReaction = await fixture.carol.client.sendEvent(roomId, "m.reaction", {
      "m.relates_to": { rel_type: "m.annotation", event_id: onElement.event.event_id, key: "🔥" },
    });
    await alice.waitFor(
      (f) =>
        f[0] === "chat.event.reaction" &&
        ((f[1] as { reactions: Record<string, string[]> }).reactions["🔥"] ?? []).length === 2,
    );
    let fetched = (await alice.ok("chat.fetch", { channel, count: 50 })).results as Array<
      Record<string, unknown>
    >;
    expect(fetched.find((e) => e.event_id === message.event_id)?.reactions).toEqual({
      "🔥": [aliceId, fixture.carol.userId],
    });

    await fixture.carol.client.redactEvent(roomId, carolReaction);
    await alice.ok("chat.react", { channel, event: message.event_id, reaction: "🔥", delete: true });
    await onMatrix(
      roomId,
      (r) =>
        r.event.type === "m.room.redaction" &&
        (r.event as { redacts?: string }).redacts === annotation.event.event_id,
    );
    await alice.waitFor(
      (f) =>
        f[0] === "chat.event.reaction" && Object.keys((f[1] as { reactions: object }).reactions).length === 0,
    );
    fetched = (await alice.ok("chat.fetch", { channel, count: 50 })).results as Array<
      Record<string, unknown>
    >;
    expect(fetched.find((e) => e.event_id === message.event_id)?.reactions).toBeUndefined();
    // Reaction changes are in the log, so a client that was away sees them when it fetches.
    const changes = fetched.filter((e) => e.event_type === "channel.reaction");
    expect(changes.length).toBe(4);
    expect(changes.at(-1)?.content).toEqual({ event: message.event_id, reactions: {} });
    expect(await alice.errorCode("chat.react", { channel, event: 99999, reaction: "👍" })).toBe(
      "chat.unknown_event",
    );
  });
});

describe("typing", () => {
  it("typing goes both ways with the full list, and expires when a client vanishes", async () => {
    const { channel, alice, roomId, aliceId } = await setUp("typing");
    const watcher: TestClient = await fixture.login(unique("watcher"), "Watcher");
    await watcher.ok("chat.subscribe", { channel });
    const typingOf = (users: string[]) => (f: unknown[]) =>
      f[0] === "chat.typing" &&
      JSON.stringify((f[1] as { users: string[] }).users.slice().sort()) ===
        JSON.stringify(users.slice().sort());

    const element = await followEphemeral(
      fixture.parley.env.homeserverUrl,
      accessTokenOf(fixture.carol.client),
      roomId,
    );
    await alice.ok("chat.typing", { channel, typing: true });
    await watcher.waitForNext(typingOf([aliceId]), 5_000, "Alice typing");
    // Element sees the puppet typing.
    await element.waitFor(
      (e) => e.type === "m.typing" && JSON.stringify(e.content.user_ids) === JSON.stringify([aliceId]),
    );

    await fixture.carol.client.setTyping(roomId, true, 20_000);
    await watcher.waitFor(typingOf([aliceId, fixture.carol.userId]), 10_000, "both typing");
    await fixture.carol.client.setTyping(roomId, false);
    await watcher.waitForNext(typingOf([aliceId]), 10_000, "Carol stopped");

    alice.close(); // vanishes without saying it stopped
    await watcher.waitForNext(typingOf([]), 10_000, "typing cleared");
    expect(await watcher.errorCode("chat.typing", { channel, typing: true })).toBe("chat.denied");
  });
});
