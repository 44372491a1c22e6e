// Regression tests for what an attack on a fresh clone found (issue 9): inputs that ended the
// process, memory that grew with anonymous requests, answers that leaked or lied. Each case names
// the finding it guards.
import { readFileSync } from "node:fs";
import { get as httpGet } from "node:http";
import { connect } from "node:net";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { bodyOf, TestClient } from "../support/client.ts";
import { chatFixture } from "../support/fixture.ts";
import { unique } from "../support/parley.ts";

const fixture = chatFixture();
const httpBase = () => fixture.parley.httpUrl();
const puppet = (name: string) => `@chat_${name}:localhost`;

/** Raw bytes to a TCP port, and what comes back until the other side closes (or 5 s pass). */
function rawHttp(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => socket.write(request));
    let answer = "";
    socket.on("data", (chunk) => {
      answer += chunk.toString();
    });
    socket.on("error", reject);
    socket.on("close", () => resolve(answer));
    setTimeout(() => socket.destroy(), 5_000);
  });
}

describe("inputs that ended the process (findings 1, 2)", () => {
  it("a ping nested 5,000 deep in JSON or 100 deep in MessagePack is answered, and so is everything after", async () => {
    const client = await TestClient.connect(fixture.parley.url());
    client.sendRaw(`["ping", ${"[".repeat(5000)}${"]".repeat(5000)}]`);
    client.sendRaw(
      Buffer.concat([
        Buffer.from([0x92, 0xa4]),
        Buffer.from("ping"),
        Buffer.alloc(100, 0x91),
        Buffer.from([0xc0]),
      ]),
    );
    await client.waitFor((f) => f[0] === "pong" && f[1] === null);
    // A request nested that deep is a bad frame, its ref still answered.
    client.sendRaw(`["chat.join", 7, {"channel": ${"[".repeat(5000)}${"]".repeat(5000)}}]`);
    const bad = await client.waitFor((f) => f[0] === "error" && f[1] === 7);
    expect((bad[2] as { code: string }).code).toBe("protocol.bad_frame");
    // A long or structured ts is not echoed back; a number or a short string is.
    client.sendRaw(JSON.stringify(["ping", "x".repeat(65)]));
    client.sendRaw(JSON.stringify(["ping", { ts: 1 }]));
    client.sendRaw(JSON.stringify(["ping", "short"]));
    await client.waitFor((f) => f[0] === "pong" && f[1] === "short");
    expect(client.received.filter((f) => f[0] === "pong").map((f) => f[1])).toEqual([
      null,
      null,
      null,
      null,
      "short",
    ]);
    await client.ping();
    client.close();
  });

  it("chat.set_role naming the bridge bot is refused, with all_channels too; owners rank-check in every channel", async () => {
    const dj = unique("dj");
    const djClient = await fixture.login(dj, "DJ");
    const [mine, shared] = [unique("mine"), unique("shared")];
    await djClient.ok("chat.join", { channel: mine });
    await djClient.ok("chat.join", { channel: shared });
    const co = unique("co");
    const coClient = await fixture.login(co, "Co");
    await coClient.ok("chat.join", { channel: mine });
    await coClient.ok("chat.join", { channel: shared });
    for (const payload of [
      { all_channels: true, user: "@parley:localhost", role: "moderator" },
      { channel: mine, user: "@parley:localhost", role: "user" },
    ]) {
      expect(await djClient.errorCode("chat.set_role", payload)).toBe("chat.denied");
    }
    // In `shared`, Co is an owner too: all_channels must leave that channel alone.
    await djClient.ok("chat.set_role", { channel: shared, user: puppet(co), role: "owner" });
    const result = await djClient.ok("chat.set_role", {
      all_channels: true,
      user: puppet(co),
      role: "moderator",
    });
    expect(result.channels).toContain(mine);
    expect(result.channels).not.toContain(shared);
    const roleIn = async (channel: string) =>
      ((await coClient.ok("chat.members", { channel })).members as Array<{ id: string; role: string }>).find(
        (m) => m.id === puppet(co),
      )?.role;
    expect(await roleIn(shared)).toBe("owner");
    expect(await roleIn(mine)).toBe("moderator");
    // The process took all of it: it still answers.
    await djClient.ping();
  });
});

describe("HTTP endpoints (findings 3, 4, 11, 13)", () => {
  it("media is served from the homeserver's own server name only; other names are 404 JSON, not a fetch", async () => {
    for (const server of ["169.254.169.254", "127.0.0.1:1", "matrix.org"]) {
      const response = await fetch(`${httpBase()}/media/${server}/abc`);
      expect(response.status, server).toBe(404);
      expect(response.headers.get("x-content-type-options")).toBe("nosniff");
      expect(((await response.json()) as { code: string }).code).toBe("media.not_found");
    }
    const missing = await fetch(`${httpBase()}/media/localhost/doesnotexist`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { code: string }).code).toBe("media.not_found");
  });

  it("40 concurrent downloads of a 10 MiB file (from 40 addresses) stream through instead of sitting in memory", async () => {
    const token = await fixture.parley.token(unique("big"), "Big");
    const file = Buffer.alloc(10 * 1024 * 1024 - 1024, 7);
    const uploaded = await fetch(`${httpBase()}/media/upload?filename=big.bin`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "image/png" },
      body: file,
    });
    expect(uploaded.status).toBe(200);
    const url = String(((await uploaded.json()) as { url: string }).url);
    global.gc?.();
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 20);
    const sizes = await Promise.all(
      Array.from({ length: 40 }, async (_, i) => {
        // Parley trusts a proxy on loopback: each download comes "from" its own address.
        const response = await fetch(url, { headers: { "x-forwarded-for": `198.51.100.${i + 1}` } });
        let size = 0;
        for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) size += chunk.length;
        return size;
      }),
    );
    clearInterval(sampler);
    expect(sizes.every((size) => size === file.length)).toBe(true);
    // Holding each file whole cost +692 MB before; streamed, growth stays far below even 40 copies.
    expect((peak - before) / 2 ** 20).toBeLessThan(200);
  }, 60_000);

  it("one address streams at most 4 downloads at once, and a reader that stops reading makes way", async () => {
    const token = await fixture.parley.token(unique("slow"), "Slow");
    const uploaded = await fetch(`${httpBase()}/media/upload?filename=slow.bin`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "image/png" },
      body: Buffer.alloc(10 * 1024 * 1024 - 1024, 1),
    });
    const url = new URL(String(((await uploaded.json()) as { url: string }).url));
    const from = { "x-forwarded-for": "192.0.2.77" };
    // Four readers that never read hold their downloads open (10 MiB do not fit in socket buffers).
    const stalled = await Promise.all(
      Array.from(
        { length: 4 },
        () =>
          new Promise<import("node:http").ClientRequest>((resolve) => {
            const request = httpGet(url, { headers: from }, (response) => {
              response.pause();
              resolve(request);
            });
          }),
      ),
    );
    const fifth = await fetch(url, { headers: from });
    expect(fifth.status).toBe(429);
    expect(fifth.headers.get("retry-after")).toBe("1");
    for (const request of stalled) request.destroy();
    await new Promise((resolve) => setTimeout(resolve, 200));
    const again = await fetch(url, { headers: from });
    expect(again.status).toBe(200);
    await again.arrayBuffer();
  });

  it("an over-limit chunked upload is answered 413, not reset; a bad target is 400 JSON; /health and 404s say nosniff", async () => {
    const token = await fixture.parley.token(unique("up"), "Up");
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 12 * 1024 * 1024) controller.close();
        else {
          sent += 256 * 1024;
          controller.enqueue(new Uint8Array(256 * 1024));
        }
      },
    });
    const upload = await fetch(`${httpBase()}/media/upload?filename=a.png`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "image/png" },
      body: stream,
      duplex: "half",
    } as RequestInit);
    expect(upload.status).toBe(413);
    expect(((await upload.json()) as { code: string }).code).toBe("media.too_large");

    const port = Number(new URL(httpBase()).port);
    const answer = await rawHttp(port, "GET //[ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    expect(answer).toMatch(/^HTTP\/1\.1 400/);
    expect(answer).toContain('"code":"http.bad_request"');
    expect(answer.toLowerCase()).toContain("x-content-type-options: nosniff");

    for (const path of ["/health", "/no-such-page"]) {
      const response = await fetch(`${httpBase()}${path}`);
      expect(response.headers.get("x-content-type-options"), path).toBe("nosniff");
      expect(response.headers.get("content-type"), path).toBe("application/json");
    }
    expect(((await (await fetch(`${httpBase()}/no-such-page`)).json()) as { code: string }).code).toBe(
      "http.not_found",
    );
  }, 60_000);

  it("the appservice listener checks the token before reading a body, and caps bodies", async () => {
    const { appservicePort, registrationPath } = fixture.parley.env;
    const hsToken = (parseYaml(readFileSync(registrationPath, "utf8")) as { hs_token: string }).hs_token;
    const put = (headers: string, body = "") =>
      rawHttp(
        appservicePort,
        `PUT /_matrix/app/v1/transactions/x1 HTTP/1.1\r\nHost: x\r\n${headers}\r\n${body}`,
      );
    // 40 MB announced, a few bytes sent: the answer comes at once, the body is never read.
    const noToken = await put("Content-Type: application/json\r\nContent-Length: 40000000\r\n", "{");
    expect(noToken).toMatch(/^HTTP\/1\.1 401/);
    const wrong = await put(
      `Authorization: Bearer ${"x".repeat(hsToken.length)}\r\nContent-Length: 40000000\r\n`,
      "{",
    );
    expect(wrong).toMatch(/^HTTP\/1\.1 403/);
    const tooBig = await put(`Authorization: Bearer ${hsToken}\r\nContent-Length: 40000000\r\n`, "{");
    expect(tooBig).toMatch(/^HTTP\/1\.1 413/);
    const notJson = await put(
      `Authorization: Bearer ${hsToken}\r\nContent-Length: 1\r\nConnection: close\r\n`,
      "{",
    );
    expect(notJson).toMatch(/^HTTP\/1\.1 400/);
    const empty = await put(
      `Authorization: Bearer ${hsToken}\r\nContent-Length: 13\r\nConnection: close\r\n`,
      '{"events":[]}',
    );
    expect(empty).toMatch(/^HTTP\/1\.1 200/);
  });
});

describe("wrong answers (findings 5, 6, 10, 12)", () => {
  it("reactions named after Object.prototype members work natively and from Element", async () => {
    const channel = unique("proto");
    const alice = await fixture.login(unique("alice"), "Alice");
    const joined = await alice.ok("chat.join", { channel });
    const roomId = (joined.state as { room_id: string }).room_id;
    await fixture.carol.join(roomId);
    const message = await alice.say(channel, "react to me");
    const keys = ["__proto__", "constructor", "toString"];
    for (const reaction of keys) await alice.ok("chat.react", { channel, event: message.event_id, reaction });
    const matrixMessage = await fixture.carol.waitForEvent(
      (r) => r.roomId === roomId && r.event.content.body === "react to me",
    );
    for (const key of ["valueOf", "hasOwnProperty"]) {
      await fixture.carol.client.sendEvent(roomId, "m.reaction", {
        "m.relates_to": { rel_type: "m.annotation", event_id: matrixMessage.event.event_id, key },
      });
    }
    const pushed = await alice.waitFor(
      (f) =>
        f[0] === "chat.event.reaction" &&
        Object.hasOwn((f[1] as { reactions: object }).reactions, "hasOwnProperty"),
    );
    const reactions = (pushed[1] as { reactions: Record<string, string[]> }).reactions;
    for (const key of [...keys, "valueOf", "hasOwnProperty"])
      expect(Object.hasOwn(reactions, key), key).toBe(true);
    const fetched = (
      await alice.ok("chat.fetch", { channel, after_id: (message.event_id as number) - 1, count: 1 })
    ).results as Array<{ reactions?: Record<string, string[]> }>;
    expect(Object.keys(fetched[0]?.reactions ?? {}).sort()).toEqual(
      [...keys, "valueOf", "hasOwnProperty"].sort(),
    );
  });

  it("chat.direct.create by a user without a display name is refused before anything is created", async () => {
    const nameless = unique("nameless");
    const other = unique("other");
    const otherClient = await fixture.login(other, "Other");
    const client = await TestClient.login(fixture.parley.url(), {
      token: await fixture.parley.token(nameless),
    });
    expect(await client.errorCode("chat.direct.create", { users: [puppet(other)] })).toBe(
      "channel.join.missing_profile",
    );
    const db = new Database(fixture.parley.config.store.sqlitePath, { readonly: true });
    const direct = db
      .prepare("SELECT count(*) AS n FROM direct_members WHERE user_id IN (?, ?)")
      .get(puppet(nameless), puppet(other)) as { n: number };
    db.close();
    expect(direct.n).toBe(0);
    expect(otherClient.received.some((f) => f[0] === "chat.notification" || f[0] === "chat.event")).toBe(
      false,
    );
    client.close();
  });

  it("lone surrogates in a body or a display name are invalid payloads, and nothing is posted", async () => {
    const channel = unique("surrogate");
    const alice = await fixture.login(unique("alice"), "Alice");
    await alice.ok("chat.join", { channel });
    const next = (await alice.ok("chat.subscribe", { channel })).next_event_id;
    alice.sendRaw(
      `["chat.send", 1, {"channel": "${channel}", "event_type": "channel.message", "content": {"type": "text", "body": "a\\ud800b"}, "txn_id": "s1"}]`,
    );
    alice.sendRaw('["user.update", 2, {"profile": {"display_name": "\\udc00 Eve"}}]');
    const sendError = await alice.waitFor((f) => f[0] === "error" && f[1] === 1);
    const updateError = await alice.waitFor((f) => f[0] === "error" && f[1] === 2);
    expect(sendError[2]).toMatchObject({ code: "protocol.invalid_payload", fields: ["content.body"] });
    expect(updateError[2]).toMatchObject({
      code: "protocol.invalid_payload",
      fields: ["profile.display_name"],
    });
    expect((await alice.ok("chat.subscribe", { channel })).next_event_id).toBe(next);
    // The same txn_id, now well-formed, posts: the refused frame left nothing behind.
    const event = await alice.say(channel, "fine now", { txn_id: "s1" });
    expect(event.event_id).toBe(next);
  });

  it("a txn_id is scoped to its channel: reusing it elsewhere posts a new message there", async () => {
    const [first, second] = [unique("first"), unique("second")];
    const alice = await fixture.login(unique("alice"), "Alice");
    await alice.ok("chat.join", { channel: first });
    await alice.ok("chat.join", { channel: second });
    const a = await alice.say(first, "in the first", { txn_id: "same" });
    const b = await alice.say(second, "in the second", { txn_id: "same" });
    expect(b.channel).toBe(second);
    expect(bodyOf(b)).toBe("in the second");
    // Within one channel it is still a retry.
    const again = await alice.say(first, "in the first", { txn_id: "same" });
    expect(again.event_id).toBe(a.event_id);
    expect(again.channel).toBe(first);
  });
});
