// The server API against a real Synapse: keys from the CLI, posts that reach a native client and
// an ordinary Matrix user alike, a webhook's posts, channels made, changed and closed as Matrix
// sees them, moderation of a Matrix user, revoked keys and deleted hooks refused, scopes, bad bodies.
import { spawnSync } from "node:child_process";
import { createHmac, timingSafeEqual } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify as toYaml } from "yaml";
import { type Api, apiClient } from "../support/api.ts";
import { TestClient } from "../support/client.ts";
import { MatrixUser } from "../support/matrix-user.ts";
import { startTestParley, type TestParley, unique } from "../support/parley.ts";
import { Receiver } from "../support/receiver.ts";

let parley: TestParley;
let carol: MatrixUser;
let configPath: string;
const clients: TestClient[] = [];

/** `parley api-key ...` as an operator runs it, on the same store as the running Parley. */
function cli(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const run = spawnSync(
    process.execPath,
    [resolve("src/main.ts"), "api-key", ...args, "--config", configPath],
    {
      encoding: "utf8",
      env: { ...process.env, NODE_OPTIONS: "--disable-warning=DEP0060" },
    },
  );
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

const createKey = (name: string, scope: string) => {
  const made = cli("create", "--name", name, "--scope", scope);
  expect(made.code, made.stderr).toBe(0);
  const lines = made.stdout.trim().split("\n");
  const key = lines.at(-1) ?? "";
  expect(key).toMatch(/^parley_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
  return { key, id: key.split("_")[1] ?? "" };
};

let admin: Api;
let poster: Api;
let reader: Api;

beforeAll(async () => {
  parley = await startTestParley();
  const { config, env } = parley;
  configPath = join(env.root, `${unique("cli")}.yaml`);
  writeFileSync(
    configPath,
    toYaml({
      homeserver: { url: config.homeserver.url, server_name: config.homeserver.serverName },
      appservice: { registration: config.appservice.registrationPath },
      auth: { jwt_secret: env.jwtSecret },
      store: { sqlite_path: config.store.sqlitePath },
    }),
  );
  admin = apiClient(() => parley.httpUrl(), createKey("Platform", "admin").key);
  poster = apiClient(() => parley.httpUrl(), createKey("Announcer", "post").key);
  reader = apiClient(() => parley.httpUrl(), createKey("Dashboard", "read").key);
  carol = await MatrixUser.register(env.homeserverUrl, unique("carol"), "Carol from Element");
});
afterAll(async () => {
  for (const c of clients) c.close();
  carol?.stop();
  await parley?.stop();
});

const login = async (name: string, displayName: string) => {
  const client = await TestClient.login(parley.url(), { token: await parley.token(name, displayName) });
  clients.push(client);
  return client;
};

const isMessage = (body: string) => (e: Record<string, unknown>) =>
  e.event_type === "channel.message" && (e.content as { body: string }).body === body;

/** A channel made through the API, with a native member and Carol from Element in it. */
async function populated(topic?: string) {
  const channel = unique("api");
  const made = await admin<{ room_id: string; alias: string }>("PUT", `/api/v1/channels/${channel}`, {
    ...(topic ? { topic } : {}),
  });
  expect(made.status).toBe(201);
  const alice = await login(unique("alice"), "Alice");
  await alice.ok("chat.join", { channel });
  expect(await carol.join(made.body.alias)).toBe(made.body.room_id);
  await parley.mirrored();
  return { channel, roomId: made.body.room_id, alias: made.body.alias, alice };
}

describe("posting from the platform's backend", () => {
  it("an API post reaches a native client and a Matrix user, from the key's integration", async () => {
    const { channel, roomId, alice } = await populated("Tonight: live set");
    const posted = await poster<{ event: { event_id: number; sender: string } }>(
      "POST",
      `/api/v1/channels/${channel}/messages`,
      { content: { type: "text", body: "Doors open at 9" }, txn_id: "announce-1" },
    );
    expect(posted.status).toBe(201);
    const native = await alice.waitForEvent(isMessage("Doors open at 9"));
    expect(native.sender).toBe(posted.body.event.sender);
    const seen = await carol.waitForEvent(
      (r) =>
        r.roomId === roomId &&
        r.event.type === "m.room.message" &&
        r.event.content.body === "Doors open at 9",
    );
    expect(seen.event.sender).toBe(posted.body.event.sender);
    const profile = await carol.client.getUserProfile(posted.body.event.sender);
    expect(profile.displayname).toBe("Announcer");
    // A retry is the same post, not a second one.
    const retried = await poster<{ event: { event_id: number } }>(
      "POST",
      `/api/v1/channels/${channel}/messages`,
      {
        content: { type: "text", body: "Doors open at 9" },
        txn_id: "announce-1",
      },
    );
    expect(retried.body.event.event_id).toBe(posted.body.event.event_id);
    await parley.mirrored();
    expect(carol.messages(roomId).filter((body) => body === "Doors open at 9")).toHaveLength(1);
    // The Matrix room shows the topic the API set.
    const topic = await carol.client.getRoomStateEvent(roomId, "m.room.topic", "");
    expect(topic.topic).toBe("Tonight: live set");
  });

  it("a webhook's post reaches both sides as a notice from the hook's own user, until it is deleted", async () => {
    const { channel, roomId, alice } = await populated();
    // Made here by the API; chat.webhook.create makes the same hooks (test/middle/server-api.test.ts).
    const made = await admin<{ id: string; url: string }>("POST", `/api/v1/channels/${channel}/webhooks`, {
      name: "Track bot",
    });
    expect(made.status).toBe(201);
    const hook = apiClient(() => parley.httpUrl(), undefined);
    const path = new URL(made.body.url).pathname;
    const posted = await hook<{ ok: boolean; event_id: number }>("POST", path, {
      text: "Now playing: Around the World",
    });
    expect(posted.status).toBe(200);
    const native = await alice.waitForEvent(isMessage("Now playing: Around the World"));
    expect(native.content).toEqual({ type: "notice", body: "Now playing: Around the World" });
    const seen = await carol.waitForEvent(
      (r) => r.roomId === roomId && r.event.content.body === "Now playing: Around the World",
    );
    expect(seen.event.content.msgtype).toBe("m.notice");
    expect((await carol.client.getUserProfile(seen.event.sender)).displayname).toBe("Track bot");

    expect((await hook("POST", path, { msgtype: "m.emote", text: "x" })).body).toMatchObject({
      code: "protocol.invalid_payload",
      fields: ["body.msgtype"],
    });
    expect((await admin("DELETE", `/api/v1/channels/${channel}/webhooks/${made.body.id}`)).status).toBe(200);
    const gone = await hook("POST", path, { text: "still there?" });
    expect(gone.status).toBe(404);
  });
});

describe("channels and moderation as Matrix sees them", () => {
  it("a ban through the API binds a Matrix user; closing a channel closes its room", async () => {
    const { channel, roomId, alias, alice } = await populated();
    const banned = await admin("POST", `/api/v1/channels/${channel}/moderation`, {
      action: "ban",
      user: carol.userId,
      reason: "spam",
    });
    expect(banned.status).toBe(200);
    await parley.mirrored();
    // The homeserver itself holds her out now.
    await expect(carol.join(roomId)).rejects.toThrow(/banned/i);

    const members = await reader<{ members: Array<{ user: string; online: boolean }> }>(
      "GET",
      `/api/v1/channels/${channel}/members`,
    );
    expect(members.body.members.some((m) => m.online)).toBe(true);

    expect((await admin("DELETE", `/api/v1/channels/${channel}`)).status).toBe(200);
    await parley.mirrored();
    await expect(carol.client.resolveRoom(alias)).rejects.toBeDefined();
    const rules = await admin<{ closed: boolean; public: boolean }>("GET", `/api/v1/channels/${channel}`);
    expect(rules.body).toMatchObject({ closed: true, public: false, members: 0 });
    expect(await alice.errorCode("chat.join", { channel })).toBe("chat.denied");
  });
});

describe("event subscriptions", () => {
  it("a subscriber gets signed events in order, at least once, across a Parley restart", async () => {
    const receiver = await Receiver.start();
    try {
      const channel = unique("subs");
      await admin("PUT", `/api/v1/channels/${channel}`, {});
      const made = await admin<{ id: string; secret: string }>("POST", "/api/v1/subscriptions", {
        url: receiver.url("/events"),
        channels: [channel],
        events: ["channel.message"],
      });
      expect(made.status).toBe(201);
      const post = (body: string) =>
        poster("POST", `/api/v1/channels/${channel}/messages`, { content: { type: "text", body } });
      const bodies = () => {
        const seen = new Map<string, string>();
        for (const r of receiver.of("/events")) {
          seen.set(String(r.body.id), String((r.body.event as { content: { body: string } }).content.body));
        }
        return [...seen.values()];
      };
      await post("one");
      await receiver.until(() => bodies().length === 1, "the first delivery");
      const [first] = receiver.of("/events");
      // What a receiver checks, in three lines of node:crypto.
      const given = Buffer.from(String(first?.headers["x-parley-signature"] ?? ""));
      const expected = Buffer.from(
        `sha256=${createHmac("sha256", made.body.secret)
          .update(first?.raw ?? "")
          .digest("hex")}`,
      );
      expect(given.length === expected.length && timingSafeEqual(given, expected)).toBe(true);
      expect(first?.headers["x-parley-delivery"]).toBe(first?.body.id);
      expect(first?.body.subscription).toBe(made.body.id);

      // The receiver goes away; two more events are logged; Parley restarts; the receiver comes back.
      await receiver.down();
      await post("two");
      await post("three");
      await new Promise((resolve) => setTimeout(resolve, 500));
      await parley.restart();
      await receiver.up();
      await receiver.until(() => bodies().length === 3, "the events logged while it was away", 40_000);
      expect(bodies()).toEqual(["one", "two", "three"]);

      const listed = await admin<{ results: Array<{ id: string; secret?: string }> }>(
        "GET",
        "/api/v1/subscriptions",
      );
      expect(listed.body.results.find((s) => s.id === made.body.id)).toMatchObject({ channels: [channel] });
      expect(listed.body.results.every((s) => s.secret === undefined)).toBe(true);
      expect((await admin("DELETE", `/api/v1/subscriptions/${made.body.id}`)).status).toBe(200);
      expect((await admin("DELETE", `/api/v1/subscriptions/${made.body.id}`)).status).toBe(404);
      const bad = await admin("POST", "/api/v1/subscriptions", { url: "ftp://example.org/x" });
      expect(bad.body).toMatchObject({ code: "protocol.invalid_payload", fields: ["body.url"] });
    } finally {
      await receiver.down().catch(() => undefined);
    }
  }, 90_000);
});

describe("refusals", () => {
  it("revoked keys, scopes and bad bodies are refused and change nothing", async () => {
    const temp = createKey("Temp", "post");
    const api = apiClient(() => parley.httpUrl(), temp.key);
    const channel = unique("refuse");
    await admin("PUT", `/api/v1/channels/${channel}`, {});
    expect(
      (await api("POST", `/api/v1/channels/${channel}/messages`, { content: { type: "text", body: "ok" } }))
        .status,
    ).toBe(201);
    const revoked = cli("revoke", temp.id);
    expect(revoked.code).toBe(0);
    expect(cli("list").stdout).toMatch(new RegExp(`${temp.id}\\tpost\\tTemp\\tcreated \\S+ revoked`));
    const refused = await api("POST", `/api/v1/channels/${channel}/messages`, {
      content: { type: "text", body: "no" },
    });
    expect(refused.status).toBe(401);
    expect(refused.body.code).toBe("api.unauthorized");

    expect(
      (
        await reader("POST", `/api/v1/channels/${channel}/messages`, {
          content: { type: "text", body: "no" },
        })
      ).status,
    ).toBe(403);
    const bad = await poster("POST", `/api/v1/channels/${channel}/messages`, {
      content: { body: 5 },
      txn_id: "",
    });
    expect(bad.status).toBe(400);
    expect(bad.body.fields).toEqual(expect.arrayContaining(["body.content.type", "body.txn_id"]));
    const history = await reader<{ results: Array<{ event_type: string; content: { body?: string } }> }>(
      "GET",
      `/api/v1/channels/${channel}/messages`,
    );
    const messages = history.body.results.filter((e) => e.event_type === "channel.message");
    expect(messages.map((e) => e.content.body)).toEqual(["ok"]);
    expect(cli("create", "--name", "x", "--scope", "root").code).toBe(2);
  });
});
