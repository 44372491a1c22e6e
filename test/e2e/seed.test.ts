// Every frame of the seed protocol (shared/seeds/000), as shown there, through a real Parley and
// a real Synapse.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestClient } from "../support/client.ts";
import { startTestParley, type TestParley, unique } from "../support/parley.ts";

let parley: TestParley;
let alice: TestClient;

beforeAll(async () => {
  parley = await startTestParley();
  alice = await TestClient.login(parley.url(), { token: await parley.token(unique("alice"), "Alice") });
});
afterAll(async () => {
  alice?.close();
  await parley?.stop();
});

describe("the seed protocol", () => {
  it("join answers success and implies subscribe", async () => {
    const channel = unique("room");
    alice.send(["chat.join", 1234, { channel }]);
    const reply = await alice.waitFor((f) => f[0] === "success" && f[1] === 1234);
    expect(reply).toHaveLength(3);
    expect(reply[2]).toMatchObject({
      next_event_id: expect.any(Number),
      members: expect.any(Array),
      state: expect.any(Object),
    });
    // Join implies subscribe: the joiner gets its own join event.
    const join = await alice.waitForEvent((e) => e.channel === channel && e.event_type === "channel.member");
    expect(join).toMatchObject({
      channel,
      event_type: "channel.member",
      content: {
        membership: "join",
        user: { id: expect.stringMatching(/^@chat_alice_/), profile: { display_name: "Alice" } },
      },
      event_id: expect.any(Number),
    });
  });

  it("subscribe answers state and members; unsubscribe answers {}", async () => {
    const channel = unique("room");
    alice.send(["chat.subscribe", 1234, { channel }]);
    const reply = await alice.waitForNext((f) => f[0] === "success" && f[1] === 1234);
    const result = reply[2] as Record<string, unknown>;
    expect(result.state).toMatchObject({ name: channel, alias: `#chat_${channel}:localhost` });
    expect(result.members).toEqual([]);
    expect(result.next_event_id).toBe(1);
    alice.send(["chat.unsubscribe", 1234, { channel }]);
    expect(await alice.waitForNext((f) => f[1] === 1234)).toEqual(["success", 1234, {}]);
  });

  it("send answers success and every subscriber, the sender included, gets the chat.event", async () => {
    const channel = unique("room");
    const bob = await TestClient.login(parley.url(), { token: await parley.token(unique("bob"), "Bob") });
    await alice.ok("chat.join", { channel });
    await bob.ok("chat.subscribe", { channel });
    alice.send([
      "chat.send",
      1234,
      { channel, event_type: "channel.message", content: { type: "text", body: "Hello world" } },
    ]);
    const reply = await alice.waitForNext((f) => f[0] === "success" && f[1] === 1234);
    expect(reply[0]).toBe("success");
    const expected = {
      channel,
      event_type: "channel.message",
      content: { type: "text", body: "Hello world" },
      sender: expect.stringMatching(/^@chat_alice_.*:localhost$/),
      event_id: expect.any(Number),
    };
    const atSender = await alice.waitForEvent(
      (e) => e.channel === channel && e.event_type === "channel.message",
    );
    const atBob = await bob.waitForEvent((e) => e.channel === channel && e.event_type === "channel.message");
    expect(atSender).toMatchObject(expected);
    expect(atBob).toEqual(atSender);
    expect((reply[2] as { event: unknown }).event).toEqual(atSender);
    bob.close();
  });

  it("leave answers success and shows a leave event to subscribers", async () => {
    const channel = unique("room");
    await alice.ok("chat.join", { channel });
    alice.send(["chat.leave", 1234, { channel }]);
    expect(await alice.waitForNext((f) => f[1] === 1234)).toEqual(["success", 1234, {}]);
    const leave = await alice.waitForEvent(
      (e) => e.channel === channel && (e.content as { membership?: string }).membership === "leave",
    );
    expect(leave).toMatchObject({
      event_type: "channel.member",
      content: { membership: "leave", user: { profile: { display_name: "Alice" } } },
    });
    const members = (await alice.ok("chat.subscribe", { channel })).members as unknown[];
    expect(members).toEqual([]);
  });

  it("joins are idempotent", async () => {
    const channel = unique("room");
    const first = await alice.ok("chat.join", { channel });
    const second = await alice.ok("chat.join", { channel });
    expect(second.next_event_id).toBe(first.next_event_id);
    expect(second.members).toEqual(first.members);
    expect(alice.events(channel).filter((e) => e.event_type === "channel.member")).toHaveLength(1);
  });

  it("a user without a display name gets channel.join.missing_profile, and can join once they set one", async () => {
    const guest = await TestClient.login(parley.url(), { client_id: crypto.randomUUID() });
    const channel = unique("room");
    expect(await guest.errorCode("chat.join", { channel })).toBe("channel.join.missing_profile");
    await guest.ok("user.update", { profile: { display_name: "Guest Star" } });
    const joined = await guest.ok("chat.join", { channel });
    expect(joined.members).toEqual([
      expect.objectContaining({ profile: { display_name: "Guest Star", avatar_url: null } }),
    ]);
    guest.close();
  });

  it("only members can send: others get chat.denied", async () => {
    const channel = unique("room");
    await alice.ok("chat.subscribe", { channel });
    const code = await alice.errorCode("chat.send", {
      channel,
      event_type: "channel.message",
      content: { type: "text", body: "not a member" },
    });
    expect(code).toBe("chat.denied");
    expect(alice.events(channel)).toEqual([]);
  });

  it("unsubscribe implies leave", async () => {
    const channel = unique("room");
    const bob = await TestClient.login(parley.url(), { token: await parley.token(unique("bob"), "Bob") });
    await bob.ok("chat.subscribe", { channel });
    await alice.ok("chat.join", { channel });
    await alice.ok("chat.unsubscribe", { channel });
    const leave = await bob.waitForEvent(
      (e) => (e.content as { membership?: string }).membership === "leave",
    );
    expect(leave).toMatchObject({ channel, event_type: "channel.member" });
    expect(((await bob.ok("chat.subscribe", { channel })).members as unknown[]).length).toBe(0);
    bob.close();
  });
});
