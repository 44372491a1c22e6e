// The inbound mapping: Matrix events, as Synapse's transactions deliver them, through the durable
// inbox into the same log and pushes as native actions. A Matrix user played by the fake
// homeserver, a native client on a real WebSocket.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createInbox } from "../../src/matrix/inbox.ts";
import { asRoomId, asUserId } from "../../src/protocol/ids.ts";
import { bodyOf, type TestClient } from "../support/client.ts";
import { type Middle, puppet, startMiddle } from "../support/middle.ts";
import { unique } from "../support/parley.ts";

let m: Middle;
beforeAll(async () => {
  m = await startMiddle();
});
afterAll(async () => {
  await m?.stop();
});

/** A channel the native user "alice" created, with the Matrix user Carol in it. */
async function scene() {
  const channel = unique("room");
  const alice = await m.login(unique("alice"), "Alice");
  const joined = await alice.ok("chat.join", { channel });
  const roomId = (joined.state as { room_id: string }).room_id;
  const carolId = `@${unique("carol")}:${"localhost"}`;
  const carol = m.fake.asMatrixUser(carolId, "Carol");
  carol.join(roomId);
  await m.settle();
  return { channel, alice, roomId, carol, carolId };
}

const messages = (client: TestClient, channel: string) =>
  client.events(channel).filter((e) => e.event_type === "channel.message");

describe("the transaction inbox and the inbound mapping", () => {
  it("turns Matrix text into channel.message events with increasing ids, in order", async () => {
    const { channel, alice, roomId, carol, carolId } = await scene();
    carol.send(roomId, { msgtype: "m.text", body: "one" });
    carol.send(roomId, { msgtype: "m.text", body: "two" });
    carol.send(roomId, { msgtype: "m.emote", body: "three" });
    await m.settle();
    const got = messages(alice, channel);
    expect(got.map(bodyOf)).toEqual(["one", "two", "three"]);
    const ids = got.map((e) => e.event_id as number);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(got[2]).toMatchObject({ content: { type: "emote" }, sender: carolId, channel });
  });

  it("shows Matrix joins and leaves with the member's display name, and ignores a replay", async () => {
    const { channel, alice, roomId, carolId } = await scene();
    const event = m.fake
      .room(roomId)
      .events.find((e) => e.type === "m.room.member" && e.state_key === carolId);
    expect(
      alice.events(channel).filter((e) => e.event_type === "channel.member" && e.sender === carolId),
    ).toEqual([
      expect.objectContaining({
        content: {
          membership: "join",
          user: { id: carolId, profile: { display_name: "Carol", avatar_url: null } },
        },
      }),
    ]);
    // Synapse may deliver a transaction again: recorded once, logged once.
    await m.inbox.record([event, { ...event }]);
    await m.inbox.drain();
    expect(alice.events(channel).filter((e) => e.sender === carolId)).toHaveLength(1);
  });

  it("records and skips what it cannot understand, and keeps flowing", async () => {
    const { channel, alice, roomId } = await scene();
    const base = { room_id: roomId, sender: "@x:localhost", origin_server_ts: Date.now() };
    await m.inbox.record([
      { ...base, event_id: "$odd1", type: "m.room.message", content: "not an object" },
      { ...base, event_id: "$odd2", type: "org.example.custom", content: {} },
      {
        ...base,
        event_id: "$odd3",
        type: "m.room.message",
        content: { msgtype: "m.text", body: "* e", "m.relates_to": { rel_type: "m.replace" } },
      },
      {
        ...base,
        event_id: "$odd4",
        room_id: "!elsewhere:localhost",
        type: "m.room.message",
        content: { msgtype: "m.text", body: "x" },
      },
      "garbage",
    ]);
    await m.inbox.drain();
    m.fake.asMatrixUser("@late:localhost", "Late").join(roomId);
    await m.settle();
    expect(alice.events(channel).some((e) => e.sender === "@late:localhost")).toBe(true);
    expect(await m.store.pendingInbox(10)).toEqual([]);
    expect((await m.store.inboxStatus("$odd2"))?.status).toBe("skipped");
    expect((await m.store.inboxStatus("$odd4"))?.status).toBe("skipped");
  });

  it("marks an event whose processing throws as failed and goes on", async () => {
    const { roomId } = await scene();
    const inbox = createInbox(
      m.store,
      {
        ...m.services.inbound,
        handle: (input) => {
          if (
            input.kind === "message" &&
            "body" in input.event.content &&
            input.event.content.body === "boom"
          ) {
            throw new Error("boom");
          }
          return m.services.inbound.handle(input);
        },
      },
      { toHttp: () => undefined, toMxc: () => undefined },
      { debug() {}, info() {}, warn() {}, error() {} },
    );
    const base = { room_id: roomId, sender: "@x:localhost", type: "m.room.message" };
    await inbox.record([
      { ...base, event_id: "$boom", origin_server_ts: 1, content: { msgtype: "m.text", body: "boom" } },
      { ...base, event_id: "$fine", origin_server_ts: 2, content: { msgtype: "m.text", body: "fine" } },
    ]);
    await inbox.drain();
    expect(await m.store.inboxStatus("$boom")).toEqual({ status: "failed", note: "boom" });
    expect((await m.store.inboxStatus("$fine"))?.status).toBe("done");
  });

  it("maps edits, redactions and reactions from Matrix, honouring who may do them", async () => {
    const { channel, alice, roomId, carol, carolId } = await scene();
    const original = carol.send(roomId, { msgtype: "m.text", body: "first" });
    await m.settle();
    const logged = messages(alice, channel).find((e) => bodyOf(e) === "first");
    carol.send(roomId, {
      msgtype: "m.text",
      body: "* second",
      "m.new_content": { msgtype: "m.text", body: "second" },
      "m.relates_to": { rel_type: "m.replace", event_id: original },
    });
    // An edit of Carol's message by someone else is not honoured.
    const mallory = m.fake.asMatrixUser("@mallory:localhost", "Mallory");
    mallory.join(roomId);
    mallory.send(roomId, {
      msgtype: "m.text",
      body: "* hacked",
      "m.new_content": { msgtype: "m.text", body: "hacked" },
      "m.relates_to": { rel_type: "m.replace", event_id: original },
    });
    carol.react(roomId, original, "👍");
    await m.settle();
    const fetched = (
      await alice.ok("chat.fetch", { channel, after_id: (logged?.event_id as number) - 1, count: 1 })
    ).results as Array<Record<string, unknown>>;
    expect(fetched[0]).toMatchObject({
      content: { body: "second" },
      edited: true,
      reactions: { "👍": [carolId] },
    });
    // A redaction by someone without the power to redact (as a federated server might still send
    // one) is not shown; Carol's own is.
    expect(() => mallory.redact(roomId, original)).toThrow(/cannot redact/);
    await m.inbox.record([
      {
        event_id: "$forged-redaction",
        room_id: roomId,
        sender: "@mallory:localhost",
        type: "m.room.redaction",
        origin_server_ts: Date.now(),
        redacts: original,
        content: { redacts: original },
      },
    ]);
    await m.inbox.drain();
    expect((await m.store.inboxStatus("$forged-redaction"))?.status).toBe("skipped");
    expect(
      (await alice.ok("chat.fetch", { channel, after_id: (logged?.event_id as number) - 1, count: 1 }))
        .results,
    ).toMatchObject([{ content: { body: "second" } }]);
    carol.redact(roomId, original);
    await m.settle();
    const deleted = alice
      .events(channel)
      .find((e) => e.replaces === logged?.event_id && (e.content as { type: string }).type === "deleted");
    expect(deleted?.sender).toBe(carolId);
  });

  it("power levels, topics and bans from Element reach the channel and bind native users", async () => {
    const { channel, alice, roomId, carolId } = await scene();
    const bobName = unique("bob");
    const bob = await m.login(bobName, "Bob");
    await bob.ok("chat.join", { channel });
    // Carol is made a moderator in Element (the power levels event is all Parley sees).
    await m.fake.port().setPowerLevel(asRoomId(roomId), asUserId(carolId), 50);
    await m.settle();
    const carolAsMod = m.fake.asMatrixUser(carolId, "Carol");
    const members = (await alice.ok("chat.members", { channel })).members as Array<{
      id: string;
      role: string;
    }>;
    expect(members.find((x) => x.id === carolId)?.role).toBe("moderator");
    carolAsMod.setTopic(roomId, "tonight: techno");
    carolAsMod.ban(roomId, puppet(bobName), "spam");
    await m.settle();
    const ban = alice
      .events(channel)
      .find(
        (e) =>
          e.event_type === "channel.member" && (e.content as { membership: string }).membership === "ban",
      );
    expect(ban).toMatchObject({
      sender: carolId,
      content: { user: { id: puppet(bobName) }, reason: "spam", by: carolId },
    });
    expect(
      await bob.errorCode("chat.send", {
        channel,
        event_type: "channel.message",
        content: { type: "text", body: "hi" },
      }),
    ).toBe("channel.banned");
    expect(((await alice.ok("chat.subscribe", { channel })).state as { topic: string }).topic).toBe(
      "tonight: techno",
    );
  });

  it("slow mode binds Matrix users: a post that came too fast is redacted by the bot and not shown", async () => {
    const { channel, alice, roomId, carol } = await scene();
    await alice.ok("chat.settings", { channel, slow_mode: 60 });
    carol.send(roomId, { msgtype: "m.text", body: "first post" });
    await m.settle();
    const tooFast = carol.send(roomId, { msgtype: "m.text", body: "second post" });
    await m.settle();
    expect(messages(alice, channel).map(bodyOf)).toEqual(["first post"]);
    expect(m.fake.callsOf("redactAsBot")).toContainEqual({
      method: "redactAsBot",
      args: [roomId, tooFast, "slow mode: one message every 60 s"],
    });
  });
});
