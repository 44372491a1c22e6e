// Bad input gets its documented error code, changes nothing, and leaves the connection open
// (except an oversized frame, which closes it with 1009).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestClient } from "../support/client.ts";
import { startTestParley, type TestParley, unique } from "../support/parley.ts";

let parley: TestParley;
let alice: TestClient;
let watcher: TestClient;
let channel: string;

const snapshot = async () => watcher.ok("chat.subscribe", { channel });

beforeAll(async () => {
  parley = await startTestParley();
  channel = unique("guarded");
  alice = await TestClient.login(parley.url(), { token: await parley.token(unique("alice"), "Alice") });
  watcher = await TestClient.login(parley.url(), { token: await parley.token(unique("watcher"), "Watcher") });
  await alice.ok("chat.join", { channel });
});
afterAll(async () => {
  alice?.close();
  watcher?.close();
  await parley?.stop();
});

/** Runs `act`, then checks the channel is unchanged and the connection still answers. */
async function changesNothing(client: TestClient, act: () => Promise<void>) {
  const before = await snapshot();
  const eventsBefore = watcher.events(channel).length;
  await act();
  await client.ping();
  const after = await snapshot();
  expect(after.next_event_id).toBe(before.next_event_id);
  expect(after.members).toEqual(before.members);
  expect(watcher.events(channel)).toHaveLength(eventsBefore);
  expect(client.isOpen).toBe(true);
}

const lastError = (client: TestClient) => client.waitForNext((f) => f[0] === "error");

describe("malformed frames get protocol.bad_frame", () => {
  const cases: Array<[string, string, unknown]> = [
    ["not JSON", "{nope", undefined],
    ["not an array", '{"action":"chat.join"}', undefined],
    ["an empty array", "[]", undefined],
    ["a number as action", "[42, 1, {}]", undefined],
    ["a payload that is not an object", '["chat.join", 7, "room_0"]', 7],
    ["a missing payload", '["chat.join", 8]', 8],
    ["too many elements", '["chat.join", 9, {}, {}]', 9],
    ["a ref that is an object", '["chat.join", {"a":1}, {}]', undefined],
  ];
  for (const [name, text, ref] of cases) {
    it(name, async () => {
      await changesNothing(alice, async () => {
        const error = lastError(alice);
        alice.sendRaw(text);
        const frame = await error;
        if (ref === undefined)
          expect(frame).toEqual(["error", expect.objectContaining({ code: "protocol.bad_frame" })]);
        else expect(frame).toEqual(["error", ref, expect.objectContaining({ code: "protocol.bad_frame" })]);
      });
    });
  }

  it("a binary frame that is not MessagePack (answered in MessagePack from then on)", async () => {
    const client = await TestClient.login(parley.url(), { token: await parley.token(unique("bin"), "Bin") });
    await changesNothing(client, async () => {
      const error = lastError(client);
      client.sendRaw(Buffer.from([0x93, 0xa9]));
      expect((await error)[1]).toMatchObject({ code: "protocol.bad_frame" });
      expect(client.binaryFrames).toBeGreaterThan(0);
    });
    client.close();
  });
});

describe("requests that are well-formed but wrong", () => {
  it("an unknown action gets protocol.unknown_command", async () => {
    await changesNothing(alice, async () => {
      expect(await alice.errorCode("chat.explode", { channel })).toBe("protocol.unknown_command");
    });
  });

  it("an invalid payload gets protocol.invalid_payload naming the fields", async () => {
    await changesNothing(alice, async () => {
      const reply = await alice.request("chat.send", {
        channel: 5,
        event_type: "channel.message",
        content: "hi",
      });
      expect(reply.ok).toBe(false);
      if (reply.ok) return;
      expect(reply.error.code).toBe("protocol.invalid_payload");
      expect(reply.error.fields).toEqual(expect.arrayContaining(["channel", "content"]));
    });
  });

  it("an invalid channel name gets protocol.invalid_payload on every channel action", async () => {
    for (const name of ["", "has space", "a".repeat(65), "slash/y", "colon:x", "émoji"]) {
      for (const action of ["chat.join", "chat.subscribe", "chat.leave", "chat.unsubscribe"]) {
        await changesNothing(alice, async () => {
          const reply = await alice.request(action, { channel: name });
          expect(reply).toMatchObject({
            ok: false,
            error: { code: "protocol.invalid_payload", fields: ["channel"] },
          });
        });
      }
    }
  });

  it("sending without joining gets chat.denied", async () => {
    await changesNothing(watcher, async () => {
      const code = await watcher.errorCode("chat.send", {
        channel,
        event_type: "channel.message",
        content: { type: "text", body: "let me in" },
      });
      expect(code).toBe("chat.denied");
    });
  });

  it("an empty body gets chat.empty; unknown types get chat.unsupported_*", async () => {
    await changesNothing(alice, async () => {
      const send = (extra: Record<string, unknown>) =>
        alice.errorCode("chat.send", {
          channel,
          event_type: "channel.message",
          content: { type: "text", body: "x" },
          ...extra,
        });
      expect(await send({ content: { type: "text", body: "   " } })).toBe("chat.empty");
      expect(await send({ content: { type: "hologram", body: "x" } })).toBe("chat.unsupported_content_type");
      expect(await send({ event_type: "channel.party" })).toBe("chat.unsupported_event_type");
      expect(await send({ content: { type: "text", body: "x".repeat(16_001) } })).toBe(
        "protocol.invalid_payload",
      );
    });
  });

  it("a channel that does not exist gets chat.unknown on send", async () => {
    await changesNothing(alice, async () => {
      const code = await alice.errorCode("chat.send", {
        channel: unique("nowhere"),
        event_type: "channel.message",
        content: { type: "text", body: "hello?" },
      });
      expect(code).toBe("chat.unknown");
    });
  });
});

describe("before authentication", () => {
  it("anything but authenticate and ping gets protocol.unauthenticated", async () => {
    const anonymous = await TestClient.connect(parley.url());
    await changesNothing(anonymous, async () => {
      for (const action of ["chat.join", "chat.send", "user.update", "chat.subscribe"]) {
        const reply = await anonymous.request(action, {
          channel,
          event_type: "channel.message",
          content: {},
        });
        expect(reply).toMatchObject({ ok: false, error: { code: "protocol.unauthenticated" } });
      }
    });
    anonymous.close();
  });

  it("a connection that never authenticates is closed with 4001", async () => {
    const fast = await startTestParleyWithShortAuthTimeout();
    const idle = await TestClient.connect(fast.url);
    expect((await idle.closed).code).toBe(4001);
    await fast.stop();
  });
});

describe("size limits", () => {
  it("a frame over the limit closes the connection with 1009, and nothing is posted", async () => {
    const big = await TestClient.login(parley.url(), { token: await parley.token(unique("big"), "Big") });
    await big.ok("chat.join", { channel });
    const before = await snapshot();
    const eventsBefore = watcher.events(channel).length;
    big.send([
      "chat.send",
      1,
      { channel, event_type: "channel.message", content: { type: "text", body: "x".repeat(70_000) } },
    ]);
    expect((await big.closed).code).toBe(1009);
    const after = await snapshot();
    expect(after.next_event_id).toBe(before.next_event_id);
    expect(watcher.events(channel)).toHaveLength(eventsBefore);
    // Others are unaffected.
    await alice.ping();
  });

  it("the 1009 close frame reaches the client for any size, even 4 MiB in one frame", async () => {
    for (const size of [64 * 1024 + 1, 4 * 1024 * 1024]) {
      const client = await TestClient.connect(parley.url());
      client.sendRaw("x".repeat(size));
      expect((await client.closed).code, `${size} bytes`).toBe(1009);
    }
    await alice.ping();
  });
});

async function startTestParleyWithShortAuthTimeout() {
  const { startParley } = await import("../../src/app.ts");
  const { parseConfig } = await import("../../src/config/load.ts");
  const env = parley.env;
  // A second Parley needs no appservice traffic for this: it gets its own (unregistered) port.
  const { freePort } = await import("../support/synapse.ts");
  const config = parseConfig(
    {
      homeserver: { url: env.homeserverUrl, server_name: env.serverName },
      appservice: { registration: env.registrationPath, port: await freePort() },
      gateway: { port: 0, auth_timeout_ms: 300 },
      auth: { jwt_secret: env.jwtSecret },
      store: { sqlite_path: ":memory:" },
      log: { level: "error" },
    },
    env.root,
  );
  const instance = await startParley(config);
  return { url: instance.gatewayUrl, stop: () => instance.stop() };
}
