// Limits that protect everyone (issue 9): per-user message, request, join and creation rates,
// per-address and per-user connection caps, new guests per address, and the Origin allowlist. Each
// answers `rate_limited` with `retry_after` (HTTP 429 with Retry-After) and changes nothing.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { type Reply, TestClient } from "../support/client.ts";
import { TEST_LIMITS } from "../support/limits.ts";
import { MatrixUser } from "../support/matrix-user.ts";
import { startTestParley, type TestParley, unique } from "../support/parley.ts";

const SMALL = {
  ...TEST_LIMITS,
  messages: { burst: 3, per_minute: 60 },
  requests: { burst: 40, per_minute: 60 },
  joins: { burst: 2, per_minute: 1 },
  // More channels than joins may be created: a join refused by its limit must create nothing.
  channel_creation: { burst: 3, per_minute: 1 },
  alias_rooms: { burst: 1, per_minute: 1 },
  direct_creation: { burst: 1, per_minute: 1 },
  uploads: { burst: 1, per_minute: 1 },
  per_address: { ...TEST_LIMITS.per_address, new_guests: { burst: 2, per_minute: 1 } },
  guests_create_channels: false,
};

let parley: TestParley;
const clients: TestClient[] = [];

beforeAll(async () => {
  parley = await startTestParley({
    limits: SMALL,
    gateway: {
      allowed_origins: ["https://chat.example.org"],
      max_connections_per_address: 30,
      max_connections_per_user: 2,
      heartbeat_interval_ms: 1000,
    },
  });
});
afterAll(async () => {
  for (const client of clients) client.close();
  await parley?.stop();
});

async function login(name: string, displayName = "Someone"): Promise<TestClient> {
  const client = await TestClient.login(parley.url(), { token: await parley.token(name, displayName) });
  clients.push(client);
  return client;
}

const expectLimited = (reply: Reply) => {
  expect(reply.ok ? "success" : reply.error.code).toBe("rate_limited");
  expect(reply.ok ? 0 : reply.error.retry_after).toBeGreaterThan(0);
};

describe("per-user limits", () => {
  it("messages: a burst passes, the next is rate_limited with retry_after and posts nothing", async () => {
    const alice = await login(unique("alice"));
    const channel = unique("chatty");
    await alice.ok("chat.join", { channel });
    for (let i = 0; i < 3; i++) await alice.say(channel, `message ${i}`);
    const next = (await alice.ok("chat.subscribe", { channel })).next_event_id;
    const refused = await alice.request("chat.send", {
      channel,
      event_type: "channel.message",
      content: { type: "text", body: "one too many" },
    });
    expectLimited(refused);
    const retryAfter = refused.ok ? 0 : Number(refused.error.retry_after);
    expect(retryAfter).toBeLessThanOrEqual(1000);
    expect((await alice.ok("chat.subscribe", { channel })).next_event_id).toBe(next);
    await new Promise((resolve) => setTimeout(resolve, retryAfter + 50));
    await alice.say(channel, "after waiting");
  });

  it("requests: all of a user's requests share one budget, across connections", async () => {
    const name = unique("busy");
    const first = await login(name);
    const second = await login(name);
    const replies = await Promise.all(
      Array.from({ length: 50 }, (_, i) => (i % 2 ? first : second).request("user.list.blocked", {})),
    );
    expect(replies.filter((r) => r.ok).length).toBeLessThanOrEqual(41);
    expect(replies.some((r) => !r.ok && r.error.code === "rate_limited")).toBe(true);
  });

  it("joins: new memberships are limited, re-joining costs nothing, a refused join creates nothing", async () => {
    const bob = await login(unique("bob"));
    const [a, b, c] = [unique("a"), unique("b"), unique("c")];
    await bob.ok("chat.join", { channel: a });
    await bob.ok("chat.join", { channel: b });
    // Already a member: free however often.
    for (let i = 0; i < 4; i++) await bob.ok("chat.join", { channel: a });
    // Bob could still create a channel, but not join it: the join is refused before creating.
    expectLimited(await bob.request("chat.join", { channel: c }));
    const carl = await login(unique("carl"));
    const members = await carl.request("chat.members", { channel: c });
    expect(members.ok ? "found" : members.error.code).toBe("chat.unknown");
  });

  it("channel creation: new channels are limited (subscribing creates one too)", async () => {
    const cora = await login(unique("cora"));
    for (let i = 0; i < 3; i++) await cora.ok("chat.subscribe", { channel: unique("made") });
    const refused = unique("refused");
    expectLimited(await cora.request("chat.subscribe", { channel: refused }));
    const other = await login(unique("other"));
    expect(await other.errorCode("chat.members", { channel: refused })).toBe("chat.unknown");
  });

  it("direct channels: creating new ones is limited, opening an existing one is not", async () => {
    const dana = await login(unique("dana"));
    const [x, y] = [unique("x"), unique("y")];
    const first = await dana.ok("chat.direct.create", { users: [`@chat_${x}:localhost`] });
    expect((await dana.ok("chat.direct.create", { users: [`@chat_${x}:localhost`] })).id).toBe(first.id);
    expectLimited(await dana.request("chat.direct.create", { users: [`@chat_${y}:localhost`] }));
  });

  it("uploads: HTTP 429 with Retry-After", async () => {
    const token = await parley.token(unique("uploader"), "Uploader");
    const http = parley
      .url()
      .replace(/^ws/, "http")
      .replace(/\/chat$/, "");
    const post = () =>
      fetch(`${http}/media/upload?filename=a.txt`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "text/plain" },
        body: "hello",
      });
    expect((await post()).status).toBe(200);
    const refused = await post();
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(((await refused.json()) as { code: string }).code).toBe("rate_limited");
  });
});

describe("guests, connections and origins", () => {
  it("guests cannot create channels when that is off, and one address makes only so many new guests", async () => {
    const owner = await login(unique("owner"));
    const open = unique("open");
    await owner.ok("chat.join", { channel: open });
    const guestId = `guest-client-${unique("g")}`;
    const guest = await TestClient.login(parley.url(), { client_id: guestId });
    clients.push(guest);
    expect(await guest.errorCode("chat.subscribe", { channel: unique("new") })).toBe("chat.unknown");
    await guest.ok("chat.subscribe", { channel: open });
    // The same guest again is no new account; two fresh ones use up the address's allowance.
    clients.push(await TestClient.login(parley.url(), { client_id: guestId }));
    clients.push(await TestClient.login(parley.url(), { client_id: `guest-client-${unique("h")}` }));
    const refused = await TestClient.connect(parley.url());
    clients.push(refused);
    const reply = await refused.authenticate({ client_id: `guest-client-${unique("i")}` });
    expect(reply[0]).toBe("error");
    expect(reply[1]).toMatchObject({ code: "rate_limited" });
    // A fresh guest id on the upload endpoint is a new guest too: the same allowance.
    const upload = await fetch(`${parley.httpUrl()}/media/upload?filename=a.txt`, {
      method: "POST",
      headers: { authorization: `Guest guest-client-${unique("j")}`, "content-type": "text/plain" },
      body: "hello",
    });
    expect(upload.status).toBe(429);
  });

  it("Matrix users looking up unknown #chat_ aliases create rooms only so fast", async () => {
    const carol = await MatrixUser.register(parley.env.homeserverUrl, unique("carol"), "Carol");
    try {
      await carol.join(`#chat_${unique("first")}:localhost`);
      await expect(carol.join(`#chat_${unique("second")}:localhost`)).rejects.toThrow();
    } finally {
      carol.stop();
    }
  });

  it("a user holds at most max_connections_per_user connections: the oldest makes way (4009)", async () => {
    const name = unique("many");
    const first = await login(name);
    const second = await login(name);
    const third = await login(name);
    expect((await first.closed).code).toBe(4009);
    await second.ping();
    await third.ping();
  });

  it("a connection that stops answering pings is dropped, and no longer counts", async () => {
    const address = await new Promise<WebSocket>((resolve) => {
      const ws = new WebSocket(parley.url(), { autoPong: false });
      ws.on("open", () => resolve(ws));
    });
    const closed = await new Promise<number>((resolve) => address.on("close", (code) => resolve(code)));
    // Terminated without a close frame: the client sees an abnormal closure.
    expect(closed).toBe(1006);
  });

  it("web pages from origins not allowed are refused (403); apps without an Origin and allowed pages connect", async () => {
    const open = (origin?: string) =>
      new Promise<number>((resolve) => {
        const ws = new WebSocket(parley.url(), origin ? { origin } : {});
        ws.on("open", () => {
          ws.close();
          resolve(101);
        });
        ws.on("unexpected-response", (_req, res) => {
          resolve(res.statusCode ?? 0);
          ws.terminate();
        });
        ws.on("error", () => undefined);
      });
    expect(await open("https://evil.example")).toBe(403);
    expect(await open("https://chat.example.org")).toBe(101);
    expect(await open()).toBe(101);
  });

  it("one address holds at most max_connections_per_address open connections (HTTP 429 with Retry-After)", async () => {
    const extra: WebSocket[] = [];
    let refusal: { status: number; retryAfter: string | undefined } | undefined;
    for (let i = 0; i < 40 && !refusal; i++) {
      refusal = await new Promise((resolve) => {
        const ws = new WebSocket(parley.url());
        ws.on("open", () => {
          extra.push(ws);
          resolve(undefined);
        });
        ws.on("unexpected-response", (_req, res) => {
          resolve({ status: res.statusCode ?? 0, retryAfter: res.headers["retry-after"] });
          ws.terminate();
        });
        ws.on("error", () => undefined);
      });
    }
    const held = extra.length;
    for (const ws of extra) ws.close();
    expect(refusal?.status).toBe(429);
    expect(Number(refusal?.retryAfter)).toBeGreaterThan(0);
    // Those of earlier tests still open count too: the cap is 30 in all.
    expect(held).toBeLessThan(30);
  });
});
