// ParleyClient against a fake socket and a fake clock: requests, reconnection with backoff,
// recovery of the gap without duplicates, keepalive, and fatal login errors.
import { beforeEach, describe, expect, it } from "vitest";
import { ParleyClient } from "../../../packages/client/src/client.ts";
import { ParleyError } from "../../../packages/client/src/errors.ts";
import type { ChatEvent } from "../../../packages/client/src/types.ts";
import { FakeClock, FakeSocket, flush } from "./fake.ts";

const authenticated = {
  user: { id: "@chat_a:x", profile: { display_name: "A", avatar_url: null } },
  "chat.channels": [],
  "chat.read_pointers": {},
  "chat.notification_counts": {},
};
const ev = (id: number, body = `m${id}`): ChatEvent => ({
  channel: "room",
  event_type: "channel.message",
  content: { type: "text", body },
  event_id: id,
  ts: id,
});
const snapshot = (next: number) => ({
  state: { name: "room", room_id: "!r", alias: "#chat_room:x" },
  next_event_id: next,
  members: [],
});

let clock: FakeClock;
let client: ParleyClient;

async function connect(): Promise<FakeSocket> {
  const connecting = client.connect();
  const socket = FakeSocket.latest();
  socket.open();
  await flush();
  expect(socket.sent[0]).toEqual(["authenticate", { token: "jwt", batch_member_events: true }]);
  socket.push(["authenticated", authenticated]);
  await connecting;
  return socket;
}

/** Connects and joins "room" (next_event_id 3); returns the socket and what the channel delivers. */
async function connectAndJoin() {
  const socket = await connect();
  const channel = client.channel("room");
  const delivered: number[] = [];
  channel.on("event", (event) => delivered.push(event.event_id));
  const joined = channel.join();
  await flush();
  socket.reply("chat.join", snapshot(3)); // events 1-2 are history, not delivered
  await joined;
  return { socket, channel, delivered };
}

beforeEach(() => {
  FakeSocket.instances = [];
  clock = new FakeClock();
  client = new ParleyClient({
    url: "ws://parley.test/chat",
    token: "jwt",
    WebSocket: FakeSocket,
    clock,
    backoff: { initialDelayMs: 1000, maxDelayMs: 16_000 },
  });
});

describe("requests", () => {
  it("resolves replies by ref and rejects errors with the protocol code", async () => {
    const socket = await connect();
    const joined = client.channel("room").join();
    await flush();
    socket.reply("chat.join", snapshot(5));
    expect((await joined).next_event_id).toBe(5);
    const sent = client.channel("room").sendText("hi");
    await flush();
    expect(socket.requests("chat.send")[0]?.payload).toMatchObject({
      channel: "room",
      content: { type: "text", body: "hi" },
      txn_id: expect.any(String),
    });
    socket.fail("chat.send", { code: "chat.denied", message: "no" });
    const error = await sent.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ParleyError);
    expect((error as ParleyError).code).toBe("chat.denied");
  });

  it("queues requests made before the connection is up", async () => {
    const pending = client.request("user.fetch", { id: "@b:x" });
    const socket = await connect();
    await flush();
    socket.reply("user.fetch", { id: "@b:x", profile: { display_name: "B", avatar_url: null } });
    expect(await pending).toMatchObject({ id: "@b:x" });
  });
});

describe("server notifications", () => {
  it("emits what the platform's backend sent as server.notify", async () => {
    const socket = await connect();
    const received: Array<Record<string, unknown>> = [];
    client.on("server.notify", (payload) => received.push(payload));
    socket.push(["server.notify", { kind: "promo", text: "50% off" }]);
    await flush();
    expect(received).toEqual([{ kind: "promo", text: "50% off" }]);
  });
});

describe("reconnection", () => {
  it("backs off with jitter, re-authenticates, and recovers the gap exactly once, in order", async () => {
    const { socket, delivered } = await connectAndJoin();
    socket.push(["chat.event", ev(3)]);
    socket.push(["chat.event", ev(3)]); // a duplicate push changes nothing
    expect(delivered).toEqual([3]);

    const reconnecting: Array<{ attempt: number; delayMs: number }> = [];
    client.on("reconnecting", (r) => reconnecting.push(r));
    socket.close(1006, "gone");
    expect(reconnecting).toEqual([{ attempt: 1, delayMs: 750 }]); // cap 1000, half fixed, half random(0.5)
    clock.advance(749);
    expect(FakeSocket.instances).toHaveLength(1);
    clock.advance(1);
    expect(FakeSocket.instances).toHaveLength(2);

    // The first reconnect fails: the next delay doubles.
    FakeSocket.latest().close(1006, "still down");
    expect(reconnecting.at(-1)).toEqual({ attempt: 2, delayMs: 1500 });
    clock.advance(1500);
    const again = FakeSocket.latest();
    again.open();
    await flush();
    again.push(["authenticated", authenticated]);
    await flush();
    // Recovery: join again, then fetch after the last delivered event (3).
    again.push(["chat.event", ev(6)]); // arrives while the gap is fetched: must wait its turn
    again.reply("chat.join", snapshot(7));
    await flush();
    expect(again.requests("chat.fetch")[0]?.payload).toMatchObject({ channel: "room", after_id: 3 });
    again.reply("chat.fetch", { results: [ev(4), ev(5), ev(6)], users: {} });
    await flush();
    await flush();
    expect(delivered).toEqual([3, 4, 5, 6]);
    again.push(["chat.event", ev(7)]);
    expect(delivered).toEqual([3, 4, 5, 6, 7]);
    expect(client.connected).toBe(true);
  });

  it("a joined channel that asked for presence asks again after reconnecting", async () => {
    const { socket, channel } = await connectAndJoin();
    const subscribing = channel.subscribe({ presence: true });
    await flush();
    expect(socket.requests("chat.subscribe")[0]?.payload).toEqual({ channel: "room", presence: true });
    socket.reply("chat.subscribe", snapshot(3));
    await subscribing;
    socket.close(1006, "gone");
    clock.advance(1000);
    const again = FakeSocket.latest();
    again.open();
    await flush();
    again.push(["authenticated", authenticated]);
    await flush();
    again.reply("chat.join", snapshot(3));
    await flush();
    expect(again.requests("chat.subscribe")[0]?.payload).toEqual({ channel: "room", presence: true });
  });

  it("a guest whose page may not use its storage (a framed page) keeps one id for the client's life", async () => {
    const refusing = {
      getItem(): string | null {
        throw new Error("SecurityError: storage is blocked");
      },
      setItem(): void {
        throw new Error("SecurityError: storage is blocked");
      },
    };
    const guest = new ParleyClient({
      url: "ws://parley.test/chat",
      WebSocket: FakeSocket,
      clock,
      storage: refusing,
    });
    void guest.connect();
    const first = FakeSocket.latest();
    first.open();
    await flush();
    const id = (first.sent[0]?.[1] as { client_id?: string } | undefined)?.client_id;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    first.push(["authenticated", authenticated]);
    await flush();
    first.close(1006, "gone");
    clock.advance(1000);
    const again = FakeSocket.latest();
    again.open();
    await flush();
    expect(again.sent[0]?.[1]).toMatchObject({ client_id: id });
    guest.close();
  });

  it("a guest without any storage keeps one id across reconnects too", async () => {
    const guest = new ParleyClient({
      url: "ws://parley.test/chat",
      WebSocket: FakeSocket,
      clock,
      storage: { getItem: () => null, setItem: () => undefined },
    });
    void guest.connect();
    const first = FakeSocket.latest();
    first.open();
    await flush();
    const id = (first.sent[0]?.[1] as { client_id?: string } | undefined)?.client_id;
    first.push(["authenticated", authenticated]);
    await flush();
    first.close(1006, "gone");
    clock.advance(1000);
    const again = FakeSocket.latest();
    again.open();
    await flush();
    expect(again.sent[0]?.[1]).toMatchObject({ client_id: id });
    guest.close();
  });

  it("resends an unanswered send after reconnecting, with the same txn_id", async () => {
    const socket = await connect();
    const sending = client.channel("room").sendText("important");
    await flush();
    const first = socket.requests("chat.send")[0]?.payload;
    socket.close(1006, "drop");
    clock.advance(1000);
    const again = FakeSocket.latest();
    again.open();
    await flush();
    again.push(["authenticated", authenticated]);
    await flush();
    expect(again.requests("chat.send")[0]?.payload).toEqual(first);
    again.reply("chat.send", { event: ev(9, "important") });
    expect((await sending).event_id).toBe(9);
  });

  it("a keepalive without pong closes the dead connection and reconnects", async () => {
    const socket = await connect();
    clock.advance(25_000);
    expect(socket.sent.at(-1)?.[0]).toBe("ping");
    clock.advance(10_000);
    expect(socket.readyState).toBe(3);
    expect(clock.pending().length).toBeGreaterThan(0); // the reconnect is scheduled
  });

  it("a refused login is final: no reconnection loop", async () => {
    const errors: string[] = [];
    client.on("error", (e) => errors.push(e.code));
    const connecting = client.connect();
    const socket = FakeSocket.latest();
    socket.open();
    await flush();
    socket.push(["error", { code: "auth.expired_token" }]);
    await expect(connecting).rejects.toMatchObject({ code: "auth.expired_token" });
    clock.advance(60_000);
    expect(FakeSocket.instances).toHaveLength(1);
    // The caller of connect() got the rejection; no error event repeats it.
    expect(errors).toEqual([]);
  });

  it.each([
    [4003, "banned from this platform"],
    [4009, "replaced"],
  ])("a close the server marks final (%i) ends reconnecting, from the shared table", async (code, reason) => {
    const errors: Array<{ code: string; details: Record<string, unknown> }> = [];
    client.on("error", (e) => errors.push({ code: e.code, details: { ...e.details } }));
    const socket = await connect();
    socket.close(code, reason);
    await flush();
    clock.advance(60_000);
    expect(FakeSocket.instances).toHaveLength(1);
    expect(errors).toEqual([{ code: "connection.closed", details: { close_code: code } }]);
  });

  // 1001: a node draining before a stop; the balancer sends the retry to another node.
  it.each([1001, 1006, 1011, 4008])("an ordinary drop (%i) is retried", async (code) => {
    const socket = await connect();
    socket.close(code, "");
    await flush();
    clock.advance(60_000);
    expect(FakeSocket.instances.length).toBeGreaterThan(1);
  });

  it("close() stops everything and fails waiting requests", async () => {
    await connect();
    const waiting = client.request("chat.members", { channel: "room" });
    await flush();
    client.close();
    await expect(waiting).rejects.toMatchObject({ code: "connection.closed" });
    clock.advance(60_000);
    expect(FakeSocket.instances).toHaveLength(1);
  });
});

describe("connect", () => {
  it("connecting again while connected opens no second socket", async () => {
    await connect();
    expect(await client.connect()).toEqual(authenticated);
    expect(FakeSocket.instances).toHaveLength(1);
  });
});

describe("recovery edge cases", () => {
  async function reconnect(): Promise<FakeSocket> {
    clock.advance(60_000);
    const socket = FakeSocket.latest();
    socket.open();
    await flush();
    socket.push(["authenticated", authenticated]);
    await flush();
    return socket;
  }

  it("a drop in the middle of a recovery: the next recovery still delivers the whole gap once", async () => {
    const { socket, delivered } = await connectAndJoin();
    socket.close(1006, "drop");
    const second = await reconnect();
    second.reply("chat.join", snapshot(250));
    await flush();
    second.reply("chat.fetch", { results: Array.from({ length: 200 }, (_, i) => ev(i + 3)), users: {} });
    await flush();
    second.close(1006, "drop again"); // while the second page is being fetched
    const third = await reconnect();
    third.reply("chat.join", snapshot(260));
    await flush();
    expect(third.requests("chat.fetch").at(-1)?.payload).toMatchObject({ after_id: 202 });
    third.reply("chat.fetch", { results: Array.from({ length: 57 }, (_, i) => ev(i + 203)), users: {} });
    await flush();
    await flush();
    expect(delivered).toEqual(Array.from({ length: 257 }, (_, i) => i + 3));
  });

  it("after leaving, a reconnect subscribes instead of joining again", async () => {
    const { socket, channel } = await connectAndJoin();
    const leaving = channel.leave();
    await flush();
    socket.reply("chat.leave", {});
    await leaving;
    socket.close(1006, "drop");
    const again = await reconnect();
    expect(again.requests("chat.join")).toEqual([]);
    expect(again.requests("chat.subscribe")).toHaveLength(1);
  });
});

describe("withdrawn sends", () => {
  it("chat.send.failed reaches the channel's sendFailed listeners; the withdrawal comes as an event", async () => {
    const { socket, channel, delivered } = await connectAndJoin();
    const failures: unknown[] = [];
    channel.on("sendFailed", (failure) => failures.push(failure));
    socket.push(["chat.event", ev(3, "refused")]);
    socket.push(["chat.send.failed", { channel: "room", event_id: 3, code: "chat.denied", message: "no" }]);
    socket.push(["chat.event", { ...ev(4), content: { type: "deleted" }, replaces: 3 }]);
    await flush();
    expect(failures).toEqual([{ event_id: 3, code: "chat.denied", message: "no" }]);
    expect(delivered).toEqual([3, 4]);
    // Another channel's failure is not this channel's.
    socket.push(["chat.send.failed", { channel: "other", event_id: 9, code: "chat.denied", message: "no" }]);
    await flush();
    expect(failures).toHaveLength(1);
  });
});

describe("media review", () => {
  it("markMedia sends chat.media.mark and answers the event; chat.event.update reaches update listeners only", async () => {
    const { socket, channel, delivered } = await connectAndJoin();
    const updates: unknown[] = [];
    channel.on("update", (event) => updates.push(event));
    const marking = channel.markMedia(3, true);
    await flush();
    expect(socket.requests("chat.media.mark").map((r) => r.payload)).toEqual([
      { channel: "room", event: 3, nsfw: true },
    ]);
    socket.reply("chat.media.mark", { event: { ...ev(3), nsfw: true } });
    expect(await marking).toMatchObject({ event_id: 3, nsfw: true });
    socket.push(["chat.event", ev(3)]);
    socket.push(["chat.event.update", { ...ev(3), nsfw: true }]);
    // A held message approved: an update of an event this client never had.
    socket.push(["chat.event.update", ev(2)]);
    await flush();
    expect(updates).toMatchObject([{ event_id: 3, nsfw: true }, { event_id: 2 }]);
    // Updates are not new events: the stream delivers event 3 once, and nothing for them.
    expect(delivered).toEqual([3]);
  });
});
