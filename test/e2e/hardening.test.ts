// Regression tests for what code review found: private channel names cannot be claimed, reading
// obeys bans, removals end live subscriptions, admin silences hold, slash commands only for new
// messages, and malformed HTTP requests cannot hurt the server.
import { describe, expect, it } from "vitest";
import { TestClient } from "../support/client.ts";
import { chatFixture } from "../support/fixture.ts";
import { unique } from "../support/parley.ts";

const fixture = chatFixture();
const httpBase = () => fixture.parley.httpUrl();

describe("hardening", () => {
  it("names of direct and moderators' channels cannot be claimed first", async () => {
    const mallory = await fixture.login(unique("mallory"), "Mallory");
    for (const channel of ["dm.0123456789abcdef0123456789abcdef", "room_0.mods", "mods.0123"]) {
      expect(await mallory.errorCode("chat.join", { channel }), channel).toBe("chat.unknown");
      expect(await mallory.errorCode("chat.subscribe", { channel }), channel).toBe("chat.unknown");
    }
    await expect(fixture.carol.join("#chat_room_0.mods:localhost")).rejects.toThrow();
  });

  it("before authentication even an unknown action is just unauthenticated", async () => {
    const anonymous = await TestClient.connect(fixture.parley.url());
    expect(await anonymous.errorCode("chat.nonsense", {})).toBe("protocol.unauthenticated");
    anonymous.close();
  });

  it("a ban ends the live subscription and reading; a banned user's upload is refused", async () => {
    const channel = unique("strict");
    const dj = await fixture.login(unique("dj"), "DJ");
    const troll = unique("troll");
    const trollClient = await fixture.login(troll, "Troll");
    await dj.ok("chat.join", { channel });
    await trollClient.ok("chat.join", { channel });
    await dj.ok("chat.ban", { channel, user: `@chat_${troll}:localhost`, reason: "no" });
    const ended = await trollClient.waitFor((f) => f[0] === "chat.unsubscribed");
    expect(ended[1]).toMatchObject({ channel, reason: "banned" });
    await dj.say(channel, "after the ban");
    await dj.waitForEvent((e) => (e.content as { body?: string }).body === "after the ban");
    expect(
      trollClient.events(channel).some((e) => (e.content as { body?: string }).body === "after the ban"),
    ).toBe(false);
    expect(await trollClient.errorCode("chat.fetch", { channel })).toBe("channel.banned");
    expect(await trollClient.errorCode("chat.members", { channel })).toBe("channel.banned");

    const admin = await fixture.loginAdmin();
    await admin.ok("user.ban", { id: `@chat_${troll}:localhost` });
    const upload = await fetch(`${httpBase()}/media/upload?filename=x.png`, {
      method: "POST",
      headers: { authorization: `Bearer ${await fixture.parley.token(troll)}`, "content-type": "image/png" },
      body: new Uint8Array([1, 2, 3]),
    });
    expect(upload.status).toBe(403);
    const short = await fetch(`${httpBase()}/media/upload?filename=x.png`, {
      method: "POST",
      headers: { authorization: "Guest a", "content-type": "image/png" },
      body: new Uint8Array([1, 2, 3]),
    });
    expect(short.status).toBe(401);
    admin.close();
  });

  it("a platform admin's silence cannot be undone by a channel moderator", async () => {
    const channel = unique("silenced");
    const dj = await fixture.login(unique("dj"), "DJ");
    const loud = unique("loud");
    const loudClient = await fixture.login(loud, "Loud");
    await dj.ok("chat.join", { channel });
    await loudClient.ok("chat.join", { channel });
    const admin = await fixture.loginAdmin();
    await admin.ok("user.silence", { id: `@chat_${loud}:localhost` });
    expect(
      await dj.errorCode("chat.timeout", { channel, user: `@chat_${loud}:localhost`, duration: 120 }),
    ).toBe("chat.denied");
    expect(await dj.errorCode("chat.untimeout", { channel, user: `@chat_${loud}:localhost` })).toBe(
      "chat.denied",
    );
    admin.close();
  });

  it("an edit that reads like a command is an edit; /me retried with its txn_id posts once", async () => {
    const channel = unique("slash");
    const dj = await fixture.login(unique("dj"), "DJ");
    await dj.ok("chat.join", { channel });
    const original = await dj.say(channel, "hello");
    const edit = await dj.say(channel, "/ban @someone", { replaces: original.event_id });
    expect(edit).toMatchObject({
      replaces: original.event_id,
      content: { type: "text", body: "/ban @someone" },
    });
    const me1 = await dj.ok("chat.send", {
      channel,
      event_type: "channel.message",
      content: { type: "text", body: "/me waves" },
      txn_id: "me-1",
    });
    const me2 = await dj.ok("chat.send", {
      channel,
      event_type: "channel.message",
      content: { type: "text", body: "/me waves" },
      txn_id: "me-1",
    });
    expect(me2.event).toEqual(me1.event);
    expect(me1.event).toMatchObject({ content: { type: "emote", body: "waves" } });
  });

  it("malformed HTTP paths get 404, and the server keeps serving", async () => {
    const bad = await fetch(`${httpBase()}/assets/%zz`);
    expect(bad.status).toBe(404);
    expect((await fetch(`${httpBase()}/health`)).status).toBe(200);
  });
});
