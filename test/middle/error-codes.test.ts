// Every error code of the protocol's table, produced the way a client meets it, through the real
// router and gateway (a fake homeserver behind): the table and the server cannot drift apart.
import { connect } from "node:net";
import { afterAll, beforeAll, expect, it } from "vitest";
import WebSocket from "ws";
import { signToken } from "../../src/auth/jwt.ts";
import { ERROR_CODES, type ErrorCode } from "../../src/protocol/errors.ts";
import { TestClient } from "../support/client.ts";
import { FakeMatrix } from "../support/fake-matrix.ts";
import { type Middle, puppet, startMiddle } from "../support/middle.ts";
import { unique } from "../support/parley.ts";

let m: Middle;
beforeAll(async () => {
  m = await startMiddle({
    gateway: { allowed_origins: ["https://ok.example"] },
    media: { max_upload_bytes: 2048, allowed_types: ["image/*"] },
    limits: {
      messages: { burst: 1000, per_minute: 60_000 },
      requests: { burst: 10_000, per_minute: 600_000 },
      joins: { burst: 1000, per_minute: 60_000 },
      channel_creation: { burst: 1000, per_minute: 60_000 },
      direct_creation: { burst: 1000, per_minute: 60_000 },
      uploads: { burst: 1, per_minute: 1 },
    },
  });
});
afterAll(async () => {
  await m?.stop();
});

const codeOf = (reply: { ok: boolean; error?: Record<string, unknown> } | unknown[]): string =>
  Array.isArray(reply)
    ? String((reply.at(-1) as { code?: string }).code)
    : String((reply as { error?: { code?: string } }).error?.code);

const http = async (path: string, init: RequestInit = {}) =>
  String(((await (await fetch(`${m.httpUrl}${path}`, init)).json()) as { code: string }).code);

const text = (channel: string, body: string, extra: Record<string, unknown> = {}) => ({
  channel,
  event_type: "channel.message",
  content: { type: "text", body },
  ...extra,
});

it("every code in the table is produced by something a client can do", async () => {
  const seen = new Set<string>();
  const see = (code: string) => seen.add(code);
  const raw = await TestClient.connect(m.url);

  // Frames and authentication.
  raw.sendRaw("{nope");
  see(codeOf(await raw.waitFor((f) => f[0] === "error")));
  see(codeOf(await raw.request("chat.join", { channel: "x" })));
  see(codeOf(await raw.authenticate({})));
  see(codeOf(await raw.authenticate({ token: "not.a.jwt" })));
  see(
    codeOf(await raw.authenticate({ token: await signToken(m.config.auth.jwtSecret, { sub: "old" }, -60) })),
  );
  const name = unique("alice");
  see(codeOf(await raw.authenticate({ token: 5 })));
  await raw.authenticate({ token: await m.token(name) });
  see(codeOf(await raw.authenticate({ token: await m.token(name) })));
  see(codeOf(await raw.request("chat.nonsense", {})));
  see(codeOf(await raw.request("chat.join", { channel: "bad name!" })));
  see(codeOf(await raw.request("chat.join", { channel: unique("c") })));
  see(codeOf(await raw.request("user.fetch", { id: "@nobody:localhost" })));
  await raw.ok("user.update", { profile: { display_name: "Alice" } });

  // Messages.
  const channel = unique("codes");
  const joined = await raw.ok("chat.join", { channel });
  const roomId = (joined.state as { room_id: string }).room_id;
  see(codeOf(await raw.request("chat.send", text(channel, "   "))));
  see(codeOf(await raw.request("chat.send", { ...text(channel, "x"), event_type: "channel.member" })));
  see(codeOf(await raw.request("chat.send", { ...text(channel, "x"), content: { type: "poll" } })));
  see(codeOf(await raw.request("chat.send", text(channel, "x", { reply_to: 999 }))));
  see(codeOf(await raw.request("chat.send", text(unique("missing"), "x"))));
  const bob = unique("bob");
  const bobClient = await m.login(bob, "Bob");
  see(codeOf(await bobClient.request("chat.send", text(channel, "not a member"))));

  // Moderation refusals.
  await bobClient.ok("chat.join", { channel });
  await raw.ok("chat.settings", { channel, rules: "Be nice.", rules_required: true });
  see(codeOf(await bobClient.request("chat.send", text(channel, "hi"))));
  await bobClient.ok("chat.accept_rules", { channel });
  await raw.ok("chat.settings", { channel, slow_mode: 60 });
  await bobClient.ok("chat.send", text(channel, "first"));
  see(codeOf(await bobClient.request("chat.send", text(channel, "second"))));
  await raw.ok("chat.timeout", { channel, user: puppet(bob), duration: 120 });
  see(codeOf(await bobClient.request("chat.send", text(channel, "third"))));
  await raw.ok("chat.ban", { channel, user: puppet(bob) });
  await m.settle();
  see(codeOf(await bobClient.request("chat.send", text(channel, "fourth"))));

  // The homeserver: down, slowing us down, failing in a way nobody expected.
  m.fake.unavailable = true;
  see(codeOf(await raw.request("chat.send", text(channel, "down"))));
  m.fake.unavailable = false;
  m.fake.failNext("sendMessage", FakeMatrix.rateLimited(200));
  see(codeOf(await raw.request("chat.send", text(channel, "slow down"))));
  m.fake.failNext("sendMessage", () => new Error("a bug in the adapter"));
  see(codeOf(await raw.request("chat.send", text(channel, "boom"))));
  expect(m.fake.room(roomId).events.length).toBeGreaterThan(0);

  // A platform ban refuses the login itself.
  const admin = await m.login(unique("admin"), "Admin", { admin: true });
  await admin.ok("user.ban", { id: puppet(bob) });
  const banned = await TestClient.connect(m.url);
  see(codeOf(await banned.authenticate({ token: await m.token(bob, "Bob") })));

  // HTTP: media and the rest.
  const auth = { authorization: `Bearer ${await m.token(unique("up"), "Up")}` };
  see(
    await http("/media/upload?filename=a.png", {
      method: "POST",
      headers: { ...auth, "content-type": "image/png" },
      body: Buffer.alloc(4096),
    }),
  );
  see(
    await http("/media/upload?filename=a.exe", {
      method: "POST",
      headers: { ...auth, "content-type": "application/x-evil" },
      body: "x",
    }),
  );
  see(
    await http("/media/upload", {
      method: "POST",
      headers: { ...auth, "content-type": "image/png" },
      body: "x",
    }),
  );
  see(
    await http("/media/upload?filename=b.png", {
      method: "POST",
      headers: { ...auth, "content-type": "image/png" },
      body: "x",
    }),
  );
  see(await http("/media/localhost/nothing-here"));
  see(await http("/no-such-endpoint"));
  const answer = await new Promise<string>((resolve) => {
    const socket = connect(Number(new URL(m.httpUrl).port), "127.0.0.1", () =>
      socket.write("GET //[ HTTP/1.1\r\nHost: x\r\n\r\n"),
    );
    let data = "";
    socket.on("data", (chunk) => {
      data += chunk;
      if (data.includes("}")) socket.destroy();
    });
    socket.on("close", () => resolve(data));
  });
  see(/"code":"([^"]+)"/.exec(answer)?.[1] ?? "none");
  const refused = await new Promise<string>((resolve) => {
    const ws = new WebSocket(m.url, { origin: "https://evil.example" });
    ws.on("unexpected-response", (_req, res) => {
      let body = "";
      res.on("data", (chunk) => {
        body += chunk;
      });
      res.on("end", () => resolve(String((JSON.parse(body) as { code: string }).code)));
    });
    ws.on("error", () => undefined);
  });
  see(refused);

  raw.close();
  banned.close();
  const missing = (Object.keys(ERROR_CODES) as ErrorCode[]).filter((code) => !seen.has(code));
  expect(missing).toEqual([]);
  expect([...seen].filter((code) => !(code in ERROR_CODES))).toEqual([]);
});
