// Every error code of the protocol's table, produced the way a client meets it, through the real
// router and gateway (a fake homeserver behind): the table and the server cannot drift apart.
import { connect } from "node:net";
import { afterAll, beforeAll, expect, it } from "vitest";
import WebSocket from "ws";
import { signToken } from "../../src/auth/jwt.ts";
import { ERROR_CODES, type ErrorCode } from "../../src/protocol/errors.ts";
import { asRoomId } from "../../src/protocol/ids.ts";
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

const _codeOf = (reply: { ok: boolean; error?: Record<string, unknown> } | unknown[]): string =>
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

it("every code in the table is produced by something a client can do, each by its own cause", async () => {
  const seen = new Set<string>();
  /** The step must produce exactly `code`; returns the error's details. */
  const expectCode = async (
    code: ErrorCode,
    step: Promise<unknown> | unknown,
  ): Promise<Record<string, unknown>> => {
    const reply = (await step) as { ok: boolean; error?: Record<string, unknown> } | unknown[] | string;
    const details =
      typeof reply === "string"
        ? { code: reply }
        : Array.isArray(reply)
          ? (reply.at(-1) as Record<string, unknown>)
          : (reply.error ?? {});
    expect(details.code, `the step meant to produce ${code}`).toBe(code);
    seen.add(code);
    return details;
  };
  const raw = await TestClient.connect(m.url);

  // Frames and authentication.
  raw.sendRaw("{nope");
  await expectCode(
    "protocol.bad_frame",
    raw.waitFor((f) => f[0] === "error"),
  );
  await expectCode("protocol.unauthenticated", raw.request("chat.join", { channel: "x" }));
  await expectCode("auth.missing_id_or_token", raw.authenticate({}));
  await expectCode("auth.invalid_token", raw.authenticate({ token: "not.a.jwt" }));
  await expectCode(
    "auth.expired_token",
    raw.authenticate({ token: await signToken(m.config.auth.jwtSecret, { sub: "old" }, -60) }),
  );
  const name = unique("alice");
  await expectCode("protocol.invalid_payload", raw.authenticate({ token: "x".repeat(9000) }));
  await raw.authenticate({ token: await m.token(name) });
  await expectCode("auth.already_authenticated", raw.authenticate({ token: await m.token(name) }));
  await expectCode("protocol.unknown_command", raw.request("chat.nonsense", {}));
  await expectCode("channel.join.missing_profile", raw.request("chat.join", { channel: unique("c") }));
  await expectCode("user.not_found", raw.request("user.fetch", { id: "@nobody:localhost" }));
  await raw.ok("user.update", { profile: { display_name: "Alice" } });
  const resting = unique("resting");
  const restingClient = await m.login(resting, "Resting");
  await restingClient.ok("user.presence", { status: "dnd" });
  await expectCode("user.do_not_disturb", raw.request("chat.direct.create", { users: [puppet(resting)] }));

  // Messages: each refused one logs nothing (so nothing reaches Matrix either).
  const channel = unique("codes");
  const joined = await raw.ok("chat.join", { channel });
  const roomId = (joined.state as { room_id: string }).room_id;
  const channelId = (await m.store.channelByRoom(asRoomId(roomId)))?.id ?? -1;
  const posted = async () => await m.store.nextSeq(channelId);
  const before = await posted();
  await expectCode("chat.empty", raw.request("chat.send", text(channel, "   ")));
  await expectCode(
    "chat.unsupported_event_type",
    raw.request("chat.send", { ...text(channel, "x"), event_type: "channel.member" }),
  );
  await expectCode(
    "chat.unsupported_content_type",
    raw.request("chat.send", { ...text(channel, "x"), content: { type: "poll" } }),
  );
  await expectCode("chat.unknown_event", raw.request("chat.send", text(channel, "x", { reply_to: 999 })));
  await expectCode("chat.unknown", raw.request("chat.send", text(unique("missing"), "x")));
  const bob = unique("bob");
  const bobClient = await m.login(bob, "Bob");
  await expectCode("chat.denied", bobClient.request("chat.send", text(channel, "not a member")));
  expect(await posted()).toBe(before);

  // Moderation refusals, in the order a send is checked.
  await bobClient.ok("chat.join", { channel });
  await raw.ok("chat.settings", { channel, rules: "Be nice.", rules_required: true });
  const rules = await expectCode(
    "channel.rules_not_accepted",
    bobClient.request("chat.send", text(channel, "hi")),
  );
  expect(rules.rules).toBe("Be nice.");
  await bobClient.ok("chat.accept_rules", { channel });
  await raw.ok("chat.settings", { channel, slow_mode: 60 });
  await bobClient.ok("chat.send", text(channel, "first"));
  const slow = await expectCode("channel.slow_mode", bobClient.request("chat.send", text(channel, "second")));
  expect(slow.retry_after).toBeGreaterThan(59_000);
  const timeout = await raw.ok("chat.timeout", { channel, user: puppet(bob), duration: 120 });
  const timedOut = await expectCode(
    "channel.timed_out",
    bobClient.request("chat.send", text(channel, "third")),
  );
  expect(timedOut.until).toBe(timeout.until);
  await raw.ok("chat.ban", { channel, user: puppet(bob) });
  await m.settle();
  await expectCode("channel.banned", bobClient.request("chat.send", text(channel, "fourth")));

  // The homeserver: down, asking to slow down, failing in a way nobody expected. Messages do not
  // wait for it (the outbox carries them); creating a channel's room does.
  const fresh = unique("fresh");
  m.fake.unavailable = true;
  await expectCode("upstream.unavailable", raw.request("chat.join", { channel: fresh }));
  m.fake.unavailable = false;
  m.fake.failNext("ensureRoom", FakeMatrix.rateLimited(200));
  const limited = await expectCode("rate_limited", raw.request("chat.join", { channel: fresh }));
  expect(limited.retry_after).toBe(200);
  m.fake.failNext("ensureRoom", () => new Error("a bug in the adapter"));
  await expectCode("server.fatal", raw.request("chat.join", { channel: fresh }));
  expect(await bobClient.errorCode("chat.members", { channel: fresh })).toBe("chat.unknown");

  // A platform ban refuses the login itself.
  const admin = await m.login(unique("admin"), "Admin", { admin: true });
  await admin.ok("user.ban", { id: puppet(bob) });
  const banned = await TestClient.connect(m.url);
  await expectCode("auth.denied", banned.authenticate({ token: await m.token(bob, "Bob") }));

  // HTTP: media and the rest.
  const auth = { authorization: `Bearer ${await m.token(unique("up"), "Up")}` };
  const upload = (query: string, type: string, body: string | Buffer) =>
    http(`/media/upload${query}`, { method: "POST", headers: { ...auth, "content-type": type }, body });
  await expectCode("media.too_large", upload("?filename=a.png", "image/png", Buffer.alloc(4096)));
  await expectCode("media.unsupported_type", upload("?filename=a.exe", "application/x-evil", "x"));
  await expectCode("media.bad_request", upload("", "image/png", "x"));
  await upload("?filename=ok.png", "image/png", "x");
  await expectCode("rate_limited", upload("?filename=b.png", "image/png", "x"));
  await expectCode("media.not_found", http("/media/localhost/nothing-here"));
  await expectCode("http.not_found", http("/no-such-endpoint"));
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
  await expectCode("http.bad_request", /"code":"([^"]+)"/.exec(answer)?.[1] ?? "none");
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
  await expectCode("http.forbidden_origin", refused);

  // The server API.
  await expectCode("api.unauthorized", http("/api/v1/channels"));
  const readKey = (await m.services.apiKeys.create("Reader", "read")).key;
  const withKey = { authorization: `Bearer ${readKey}`, "content-type": "application/json" };
  await expectCode(
    "api.forbidden",
    http(`/api/v1/channels/${unique("c")}`, { method: "PUT", headers: withKey, body: "{}" }),
  );
  await expectCode(
    "http.method_not_allowed",
    http("/api/v1/channels", { method: "PATCH", headers: withKey }),
  );
  const adminKey = (await m.services.apiKeys.create("Admin", "admin")).key;
  await expectCode(
    "http.payload_too_large",
    http(`/api/v1/channels/${unique("c")}`, {
      method: "PUT",
      headers: { authorization: `Bearer ${adminKey}`, "content-type": "application/json" },
      body: JSON.stringify({ topic: "x".repeat(300_000) }),
    }),
  );

  raw.close();
  banned.close();
  const missing = (Object.keys(ERROR_CODES) as ErrorCode[]).filter((code) => !seen.has(code));
  expect(missing).toEqual([]);
});
