// The server API through the real router and gateway, over a fake homeserver: every operation,
// its scopes, its refusals, webhooks and the OpenAPI document.
import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Api, apiClient } from "../support/api.ts";
import type { TestClient } from "../support/client.ts";
import { type Middle, puppet, startMiddle } from "../support/middle.ts";
import { unique } from "../support/parley.ts";

/** The payload of the next push named `name` (that `accept` takes). */
const nextPush = (client: TestClient, name: string, accept: (payload: unknown) => boolean = () => true) =>
  client
    .waitForNext((frame) => frame[0] === name && accept(frame[1]), 10_000, name)
    .then((frame) => frame[1]);
const isMessage = (payload: unknown) => (payload as { event_type?: string }).event_type === "channel.message";

let m: Middle;
let admin: Api;
let poster: Api;
let reader: Api;
let adminKey: { id: string; key: string; user: string };
let readerKey: string;

beforeAll(async () => {
  m = await startMiddle();
  const keys = m.services.apiKeys;
  adminKey = await keys.create("Platform", "admin");
  admin = apiClient(m.httpUrl, adminKey.key);
  poster = apiClient(m.httpUrl, (await keys.create("Announcer", "post")).key);
  readerKey = (await keys.create("Dashboard", "read")).key;
  reader = apiClient(m.httpUrl, readerKey);
});
afterAll(async () => {
  await m?.stop();
});

describe("keys and scopes", () => {
  it("refuses requests without a live key, and keys beyond their scope", async () => {
    const none = apiClient(m.httpUrl, undefined);
    expect((await none("GET", "/api/v1/channels")).status).toBe(401);
    expect((await none("GET", "/api/v1/channels")).body.code).toBe("api.unauthorized");
    const bogus = apiClient(m.httpUrl, `${adminKey.key.slice(0, -3)}xyz`);
    expect((await bogus("GET", "/api/v1/channels")).status).toBe(401);
    const refused = await reader("PUT", `/api/v1/channels/${unique("r")}`, {});
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe("api.forbidden");
    expect((await poster("POST", "/api/v1/users/alice/ban")).status).toBe(403);
  });

  it("a revoked key is refused at once", async () => {
    const made = await m.services.apiKeys.create("Short-lived", "read");
    const api = apiClient(m.httpUrl, made.key);
    expect((await api("GET", "/api/v1/channels")).status).toBe(200);
    expect(await m.services.apiKeys.revoke(made.id)).toBe(true);
    expect((await api("GET", "/api/v1/channels")).status).toBe(401);
    expect(await m.services.apiKeys.revoke(made.id)).toBe(false);
  });
});

describe("channels", () => {
  it("creates, configures, lists, shows and closes a channel", async () => {
    const name = unique("api");
    const created = await admin("PUT", `/api/v1/channels/${name}`, {
      topic: "Live set",
      settings: { slow_mode: 5 },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      id: name,
      topic: "Live set",
      public: true,
      closed: false,
      members: 0,
    });
    expect((created.body.settings as { slow_mode: number }).slow_mode).toBe(5);
    const again = await admin("PUT", `/api/v1/channels/${name}`, { public: false });
    expect(again.status).toBe(200);
    expect(again.body.public).toBe(false);
    // Invite-only now: a read key no longer finds it, an admin key does.
    expect((await reader("GET", `/api/v1/channels/${name}`)).status).toBe(404);
    const listed = await admin<{ results: Array<{ id: string }> }>("GET", `/api/v1/channels?search=${name}`);
    expect(listed.body.results.map((c) => c.id)).toEqual([name]);
    const publicOnly = await reader<{ results: Array<{ id: string }> }>(
      "GET",
      `/api/v1/channels?search=${name}`,
    );
    expect(publicOnly.body.results).toEqual([]);
    await admin("PUT", `/api/v1/channels/${name}`, { public: true });

    const aliceName = unique("alice");
    const alice = await m.login(aliceName, "Alice");
    await alice.ok("chat.join", { channel: name });
    const members = await admin<{ members: Array<{ user: string; online: boolean; joined_at: number }> }>(
      "GET",
      `/api/v1/channels/${name}/members`,
    );
    expect(members.body.members).toEqual([
      expect.objectContaining({ user: puppet(aliceName), role: "user", online: true }),
    ]);

    expect((await admin("DELETE", `/api/v1/channels/${name}`)).status).toBe(200);
    const closed = await admin("GET", `/api/v1/channels/${name}`);
    expect(closed.body).toMatchObject({ closed: true, members: 0 });
    expect(await alice.errorCode("chat.join", { channel: name })).toBe("chat.denied");
    expect(m.fake.calls.some((call) => call.method === "removeAlias")).toBe(true);
    expect((await admin("DELETE", `/api/v1/channels/${name}`)).status).toBe(404);
  });

  it("pages through the directory with a cursor", async () => {
    const prefix = unique("dir");
    for (const n of [1, 2, 3]) await admin("PUT", `/api/v1/channels/${prefix}-${n}`, {});
    const first = await reader<{ results: Array<{ id: string }>; next_cursor: string | null }>(
      "GET",
      `/api/v1/channels?search=${prefix}&count=2`,
    );
    expect(first.body.results.map((c) => c.id)).toEqual([`${prefix}-1`, `${prefix}-2`]);
    const second = await reader<{ results: Array<{ id: string }>; next_cursor: string | null }>(
      "GET",
      `/api/v1/channels?search=${prefix}&count=2&cursor=${first.body.next_cursor}`,
    );
    expect(second.body.results.map((c) => c.id)).toEqual([`${prefix}-3`]);
    expect(second.body.next_cursor).toBeNull();
  });

  it("answers bad input with 400 and the failing fields, unknown channels with 404", async () => {
    const bad = await admin("PUT", "/api/v1/channels/bad%20name", { public: "yes" });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ code: "protocol.invalid_payload" });
    expect(bad.body.fields).toEqual(expect.arrayContaining(["path.channel"]));
    const badBody = await admin("PUT", `/api/v1/channels/${unique("b")}`, { public: "yes", extra: 1 });
    expect(badBody.body.fields).toEqual(expect.arrayContaining(["body.public"]));
    const notJson = await admin("PUT", `/api/v1/channels/${unique("b")}`, "{nope");
    expect(notJson.body).toMatchObject({ code: "protocol.invalid_payload", fields: ["body"] });
    expect((await reader("GET", "/api/v1/channels/nothing-here")).status).toBe(404);
    expect(
      (
        await poster("POST", "/api/v1/channels/nothing-here/messages", {
          content: { type: "text", body: "x" },
        })
      ).status,
    ).toBe(404);
    const method = await admin("PATCH", "/api/v1/channels/x");
    expect(method.status).toBe(405);
    expect(method.headers.get("allow")).toContain("PUT");
    expect((await admin("GET", "/api/v1/nothing")).status).toBe(404);
  });
});

describe("messages", () => {
  it("posts as the key's integration, idempotently with txn_id, reaching native subscribers", async () => {
    const name = unique("post");
    await admin("PUT", `/api/v1/channels/${name}`, {});
    const bob = await m.login(unique("bob"), "Bob");
    await bob.ok("chat.join", { channel: name });
    const pushed = nextPush(bob, "chat.event", isMessage);
    const body = { content: { type: "text", body: "Doors open at 9" }, txn_id: "t-1" };
    const posted = await poster<{ event: { event_id: number; sender: string } }>(
      "POST",
      `/api/v1/channels/${name}/messages`,
      body,
    );
    expect(posted.status).toBe(201);
    const event = (await pushed) as { sender: string; content: { body: string } };
    expect(event.content.body).toBe("Doors open at 9");
    expect(event.sender).toBe(posted.body.event.sender);
    expect(event.sender).toMatch(/^@chat_api-[0-9a-f]{12}:localhost$/);
    const profile = await m.services.users.native(posted.body.event.sender as never);
    expect(profile?.displayName).toBe("Announcer");
    const retried = await poster<{ event: { event_id: number } }>(
      "POST",
      `/api/v1/channels/${name}/messages`,
      body,
    );
    expect(retried.body.event.event_id).toBe(posted.body.event.event_id);
    const history = await reader<{ results: Array<{ content: { body?: string } }> }>(
      "GET",
      `/api/v1/channels/${name}/messages?count=10`,
    );
    expect(history.body.results.filter((e) => e.content.body === "Doors open at 9")).toHaveLength(1);
    await m.settle();
    expect(m.fake.calls.filter((c) => c.method === "sendMessage")).not.toHaveLength(0);
  });

  it("an invite-only channel takes a post key's posts only once its integration was added", async () => {
    const name = unique("private");
    await admin("PUT", `/api/v1/channels/${name}`, { public: false });
    const message = { content: { type: "text", body: "psst" } };
    expect((await poster("POST", `/api/v1/channels/${name}/messages`, message)).status).toBe(404);
    const keys = await m.services.apiKeys.list();
    const announcer = keys.find((key) => key.name === "Announcer");
    const added = await admin("PUT", `/api/v1/channels/${name}/members/api-${announcer?.id}`);
    expect(added.status).toBe(200);
    expect((await poster("POST", `/api/v1/channels/${name}/messages`, message)).status).toBe(201);
  });

  it("posts as a native user only with an admin key", async () => {
    const name = unique("as");
    await admin("PUT", `/api/v1/channels/${name}`, {});
    const carol = unique("carol");
    const client = await m.login(carol, "Carol");
    await client.ok("chat.join", { channel: name });
    const refused = await poster("POST", `/api/v1/channels/${name}/messages`, {
      content: { type: "text", body: "hi" },
      as: carol,
    });
    expect(refused.status).toBe(403);
    const posted = await admin<{ event: { sender: string } }>("POST", `/api/v1/channels/${name}/messages`, {
      content: { type: "text", body: "hi" },
      as: carol,
    });
    expect(posted.body.event.sender).toBe(puppet(carol));
  });

  it("moderates, adds and removes members, notifies a user's connections", async () => {
    const name = unique("mod");
    await admin("PUT", `/api/v1/channels/${name}`, {});
    const dave = unique("dave");
    const client = await m.login(dave, "Dave");
    expect((await admin("PUT", `/api/v1/channels/${name}/members/${dave}`)).status).toBe(200);
    const joined = await admin<{ members: Array<{ user: string }> }>(
      "GET",
      `/api/v1/channels/${name}/members`,
    );
    expect(joined.body.members.map((member) => member.user)).toEqual([puppet(dave)]);
    const timeout = await admin<{ until: number }>("POST", `/api/v1/channels/${name}/moderation`, {
      action: "timeout",
      user: dave,
      duration: 120,
      reason: "cool down",
    });
    expect(timeout.status).toBe(200);
    expect(timeout.body.until).toBeGreaterThan(Date.now());
    // Without a duration: a mute until lifted.
    const muted = await admin("POST", `/api/v1/channels/${name}/moderation`, {
      action: "timeout",
      user: dave,
    });
    expect(muted.body).toMatchObject({ until: null });
    const notified = nextPush(client, "server.notify");
    const sent = await poster("POST", `/api/v1/users/${dave}/notify`, {
      payload: { kind: "promo", text: "50% off" },
    });
    expect(sent.body).toEqual({ connections: 1 });
    expect(await notified).toEqual({ kind: "promo", text: "50% off" });
    expect(
      (await admin("DELETE", `/api/v1/channels/${name}/members/${dave}`, { reason: "bye" })).status,
    ).toBe(200);
    const members = await admin<{ members: unknown[] }>("GET", `/api/v1/channels/${name}/members`);
    expect(members.body.members).toEqual([]);
  });

  it("does not add a user banned from the channel (found by schemathesis)", async () => {
    const name = unique("banned");
    await admin("PUT", `/api/v1/channels/${name}`, {});
    const erin = unique("erin");
    await m.login(erin, "Erin");
    const ban = { action: "ban", user: erin, reason: "spam" };
    expect((await admin("POST", `/api/v1/channels/${name}/moderation`, ban)).status).toBe(200);
    const refused = await admin("PUT", `/api/v1/channels/${name}/members/${erin}`);
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe("channel.banned");
    const members = await admin<{ members: unknown[] }>("GET", `/api/v1/channels/${name}/members`);
    expect(members.body.members).toEqual([]);
  });
});

describe("webhooks", () => {
  it("posts through a hook made over the protocol, until it is deleted", async () => {
    const name = unique("hook");
    const owner = await m.login(unique("owner"), "Owner");
    await owner.ok("chat.join", { channel: name });
    const made = (await owner.ok("chat.webhook.create", { channel: name, name: "Track bot" })) as {
      id: string;
      url: string;
    };
    expect(made.url).toMatch(new RegExp(`^${m.httpUrl}/hooks/${made.id}/[A-Za-z0-9_-]{43}$`));
    const listed = (await owner.ok("chat.webhook.list", { channel: name })) as {
      results: Array<{ id: string }>;
    };
    expect(listed.results.map((h) => h.id)).toEqual([made.id]);

    const pushed = nextPush(owner, "chat.event", isMessage);
    const hook = apiClient(made.url.replace(/\/hooks\/.*/, ""), undefined);
    const path = new URL(made.url).pathname;
    const posted = await hook<{ ok: boolean; event_id: number }>("POST", path, {
      text: "Now playing: Daft Punk",
    });
    expect(posted.status).toBe(200);
    expect(posted.body.ok).toBe(true);
    const event = (await pushed) as { sender: string; content: { type: string; body: string } };
    expect(event.content).toEqual({ type: "notice", body: "Now playing: Daft Punk" });
    expect((await m.services.users.native(event.sender as never))?.displayName).toBe("Track bot");
    expect((await hook("POST", path, { nothing: true })).status).toBe(400);
    // `username` renames the hook's user; `body` stands in for `text`; m.text posts text.
    const renamed = nextPush(owner, "chat.event", isMessage);
    expect(
      (await hook("POST", path, { body: "deployed", msgtype: "m.text", username: "Deploy bot" })).status,
    ).toBe(200);
    const second = (await renamed) as { sender: string; content: { type: string; body: string } };
    expect(second.content).toEqual({ type: "text", body: "deployed" });
    expect((await m.services.users.native(second.sender as never))?.displayName).toBe("Deploy bot");
    const stranger = await m.login(unique("stranger"), "Stranger");
    await stranger.ok("chat.join", { channel: name });
    expect(await stranger.errorCode("chat.webhook.create", { channel: name, name: "x" })).toBe("chat.denied");

    await owner.ok("chat.webhook.delete", { channel: name, id: made.id });
    const gone = await hook("POST", path, { text: "still there?" });
    expect(gone.status).toBe(404);
    expect(gone.body.code).toBe("chat.unknown");
  });

  it("manages hooks through the API and limits each hook's rate", async () => {
    const name = unique("apihook");
    await admin("PUT", `/api/v1/channels/${name}`, {});
    const made = await admin<{ id: string; url: string }>("POST", `/api/v1/channels/${name}/webhooks`, {
      name: "CI",
    });
    expect(made.status).toBe(201);
    const listed = await admin<{ results: Array<{ id: string; created_by: string }> }>(
      "GET",
      `/api/v1/channels/${name}/webhooks`,
    );
    expect(listed.body.results).toEqual([
      expect.objectContaining({ id: made.body.id, created_by: adminKey.user }),
    ]);
    const hook = apiClient(m.httpUrl, undefined);
    const path = new URL(made.body.url).pathname;
    const statuses: number[] = [];
    for (let i = 0; i < 25; i++)
      statuses.push((await hook("POST", path, { body: `build ${i}`, msgtype: "m.text" })).status);
    expect(statuses.slice(0, 20).every((s) => s === 200)).toBe(true);
    const limited = await hook("POST", path, { text: "one more" });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await admin("DELETE", `/api/v1/channels/${name}/webhooks/${made.body.id}`)).status).toBe(200);
    expect((await admin("DELETE", `/api/v1/channels/${name}/webhooks/${made.body.id}`)).status).toBe(404);
  });
});

describe("the OpenAPI document", () => {
  it("is served without a key and lists every operation", async () => {
    const doc = await apiClient(m.httpUrl, undefined)<{
      openapi: string;
      paths: Record<string, Record<string, unknown>>;
    }>("GET", "/api/v1/openapi.json");
    expect(doc.body.openapi).toBe("3.1.0");
    expect(Object.keys(doc.body.paths["/api/v1/channels/{channel}"] ?? {}).sort()).toEqual([
      "delete",
      "get",
      "put",
    ]);
  });
});

describe("what the API never reaches or changes", () => {
  it("direct and moderators' channels look missing, even to an admin key", async () => {
    const a = unique("dma");
    const b = unique("dmb");
    const alice = await m.login(a, "A");
    await m.login(b, "B");
    const dm = (await alice.ok("chat.direct.create", { users: [puppet(b)] })) as { id: string };
    const name = unique("modded");
    await alice.ok("chat.join", { channel: name });
    const mods = (await alice.ok("chat.mod_channel", { channel: name })) as { id: string };
    for (const channel of [dm.id, mods.id]) {
      for (const [method, path, body] of [
        ["GET", "", undefined],
        ["GET", "/messages", undefined],
        ["GET", "/members", undefined],
        ["PUT", "", {}],
        ["DELETE", "", undefined],
        ["PUT", `/members/${b}`, undefined],
        ["POST", "/messages", { content: { type: "text", body: "hi" } }],
        ["GET", "/webhooks", undefined],
        ["POST", "/webhooks", { name: "x" }],
      ] as const) {
        const reply = await admin(method, `/api/v1/channels/${encodeURIComponent(channel)}${path}`, body);
        expect([reply.status, reply.body.code], `${method} ${channel}${path}`).toEqual(
          method === "PUT" && path === "" ? [403, "chat.denied"] : [404, "chat.unknown"],
        );
      }
    }
    const listed = await admin<{ results: Array<{ id: string }> }>("GET", "/api/v1/channels?count=100");
    expect(listed.body.results.map((c) => c.id)).not.toContain(dm.id);
  });

  it("a refused post leaves nothing behind: no membership, no hook on a closed channel", async () => {
    const name = unique("clean");
    await admin("PUT", `/api/v1/channels/${name}`, {});
    const bad = await poster("POST", `/api/v1/channels/${name}/messages`, {
      content: { type: "text", body: "" },
    });
    expect(bad.status).toBe(400);
    const members = await admin<{ members: unknown[] }>("GET", `/api/v1/channels/${name}/members`);
    expect(members.body.members).toEqual([]);
    const badReply = await poster("POST", `/api/v1/channels/${name}/messages`, {
      content: { type: "text", body: "hi" },
      reply_to: 999,
    });
    expect(badReply.body).toMatchObject({ code: "chat.unknown_event", fields: ["reply_to"] });
    expect(
      (await admin<{ members: unknown[] }>("GET", `/api/v1/channels/${name}/members`)).body.members,
    ).toEqual([]);

    // A reply to a message the integration may not see (to chosen recipients) is a missing one.
    const talkerName = unique("talker");
    const talker = await m.login(talkerName, "Talker");
    await talker.ok("chat.join", { channel: name });
    const secret = (
      await talker.ok("chat.send", {
        channel: name,
        event_type: "channel.message",
        content: { type: "text", body: "for one" },
        to: [puppet(talkerName)],
      })
    ).event as { event_id: number };
    const hiddenReply = await poster("POST", `/api/v1/channels/${name}/messages`, {
      content: { type: "text", body: "hi" },
      reply_to: secret.event_id,
    });
    expect(hiddenReply.body).toMatchObject({ code: "chat.unknown_event", fields: ["reply_to"] });
    expect(
      (
        await admin<{ members: Array<{ user: string }> }>("GET", `/api/v1/channels/${name}/members`)
      ).body.members.map((member) => member.user),
    ).toEqual([puppet(talkerName)]);

    // `as` a native user who is not in the channel: refused, and they are not put in.
    const erin = unique("erin");
    await m.login(erin, "Erin");
    const as = await admin("POST", `/api/v1/channels/${name}/messages`, {
      content: { type: "text", body: "hi" },
      as: erin,
    });
    expect([as.status, as.body.code]).toEqual([403, "chat.denied"]);
    expect(
      (
        await admin<{ members: Array<{ user: string }> }>("GET", `/api/v1/channels/${name}/members`)
      ).body.members.map((member) => member.user),
    ).toEqual([puppet(talkerName)]);

    await admin("DELETE", `/api/v1/channels/${name}`);
    expect((await admin("POST", `/api/v1/channels/${name}/webhooks`, { name: "late" })).status).toBe(404);
    expect((await admin("GET", `/api/v1/channels/${name}/webhooks`)).status).toBe(404);
  });

  it("adding a member: only users who exist, never past a ban", async () => {
    const name = unique("add");
    await admin("PUT", `/api/v1/channels/${name}`, {});
    const nobody = await admin("PUT", `/api/v1/channels/${name}/members/${unique("nobody")}`);
    expect([nobody.status, nobody.body.code]).toEqual([404, "user.not_found"]);
    const frank = unique("frank");
    await m.login(frank, "Frank");
    await admin("POST", `/api/v1/users/${frank}/ban`);
    const banned = await admin("PUT", `/api/v1/channels/${name}/members/${frank}`);
    expect([banned.status, banned.body.code]).toEqual([403, "chat.denied"]);
    const matrixId = await admin(
      "PUT",
      `/api/v1/channels/${name}/members/${encodeURIComponent("@carol:elsewhere")}`,
    );
    expect(matrixId.body).toMatchObject({ code: "protocol.invalid_payload", fields: ["path.user"] });
  });

  it("`.` and `..` are channel names, not path steps", async () => {
    // fetch() would resolve the dots itself; node:http sends the path as written.
    const raw = (path: string) =>
      new Promise<{ status: number; code: string }>((resolve, reject) => {
        const url = new URL(m.httpUrl);
        request(
          { host: url.hostname, port: url.port, path, headers: { authorization: `Bearer ${readerKey}` } },
          (res) => {
            let text = "";
            res.on("data", (chunk) => {
              text += chunk;
            });
            res.on("end", () =>
              resolve({ status: res.statusCode ?? 0, code: String(JSON.parse(text).code) }),
            );
          },
        )
          .on("error", reject)
          .end();
      });
    for (const dots of [".", ".."]) {
      expect(await raw(`/api/v1/channels/${dots}/members`)).toEqual({ status: 404, code: "chat.unknown" });
    }
  });
});
