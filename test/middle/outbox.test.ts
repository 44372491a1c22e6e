// Native first, Matrix after: native actions are answered and pushed before any homeserver call,
// and the outbox carries them to the (fake) homeserver per channel in order, at the time they
// were said, once each, whatever the homeserver does meanwhile: down, slow, answers lost, refusals.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MARKER_KEY } from "../../src/matrix/markers.ts";
import { asEventSeq, asRoomId } from "../../src/protocol/ids.ts";
import { bodyOf, type TestClient } from "../support/client.ts";
import { FakeMatrix, type RawEvent } from "../support/fake-matrix.ts";
import { type Middle, puppet, startMiddle } from "../support/middle.ts";
import { unique } from "../support/parley.ts";

let m: Middle;
beforeAll(async () => {
  m = await startMiddle();
});
afterAll(async () => {
  await m?.stop();
});

/** Alice (the channel's owner) and Bob, natives, and the Matrix user Carol, all in one channel. */
async function scene() {
  const channel = unique("out");
  const names = { alice: unique("alice"), bob: unique("bob") };
  const alice = await m.login(names.alice, "Alice");
  const bob = await m.login(names.bob, "Bob");
  const joined = await alice.ok("chat.join", { channel });
  await bob.ok("chat.join", { channel });
  const roomId = (joined.state as { room_id: string }).room_id;
  const carolId = `@${unique("carol")}:localhost`;
  const carol = m.fake.asMatrixUser(carolId, "Carol");
  carol.join(roomId);
  await m.settle();
  const channelId = (await m.store.channelByRoom(asRoomId(roomId)))?.id ?? -1;
  return { channel, channelId, names, alice, bob, roomId, carol, carolId };
}

const roomMessages = (roomId: string): RawEvent[] =>
  m.fake.room(roomId).events.filter((e) => e.type === "m.room.message");
const bodies = (roomId: string) => roomMessages(roomId).map((e) => e.content.body);
const messagesOf = (client: TestClient, channel: string) =>
  client.events(channel).filter((e) => e.event_type === "channel.message");
const relation = (event: RawEvent) => event.content["m.relates_to"] as Record<string, unknown> | undefined;

describe("native first", () => {
  it("with the homeserver down, natives keep chatting; Matrix then gets every message once, in order, at its time", async () => {
    const s = await scene();
    m.fake.unavailable = true;
    const sent: Array<Record<string, unknown>> = [];
    try {
      for (let i = 0; i < 5; i++) sent.push(await s.alice.say(s.channel, `m${i}`));
      await s.bob.waitForEvent((e) => bodyOf(e) === "m4");
      expect(messagesOf(s.bob, s.channel).map(bodyOf)).toEqual(["m0", "m1", "m2", "m3", "m4"]);
      await new Promise((resolve) => setTimeout(resolve, 150));
      expect(bodies(s.roomId)).toEqual([]);
      expect((await m.services.outbox.stats()).pending).toBeGreaterThanOrEqual(5);
    } finally {
      m.fake.unavailable = false;
    }
    await m.settle();
    const mirrored = roomMessages(s.roomId);
    expect(mirrored.map((e) => e.content.body)).toEqual(["m0", "m1", "m2", "m3", "m4"]);
    expect(mirrored.every((e) => e.sender === puppet(s.names.alice))).toBe(true);
    // Matrix users see each message at the time it was said, not when the homeserver came back.
    expect(mirrored.map((e) => e.origin_server_ts)).toEqual(sent.map((e) => e.ts));
    // The echoes were known as Parley's own: logged once, and the log knows their Matrix ids.
    expect(messagesOf(s.bob, s.channel)).toHaveLength(5);
    for (const [i, event] of sent.entries()) {
      expect(
        (await m.store.eventBySeq(s.channelId, asEventSeq(event.event_id as number)))?.matrixEventId,
      ).toBe(mirrored[i]?.event_id);
    }
    expect((await m.services.outbox.stats()).pending).toBe(0);
  });

  it("an answer lost after the homeserver posted is neither posted nor logged twice", async () => {
    const s = await scene();
    m.fake.loseNextAnswer("sendMessage");
    const event = await s.alice.say(s.channel, "once");
    await m.settle();
    expect(bodies(s.roomId).filter((b) => b === "once")).toHaveLength(1);
    expect(messagesOf(s.bob, s.channel).filter((e) => bodyOf(e) === "once")).toHaveLength(1);
    const matrixId = (await m.store.eventBySeq(s.channelId, asEventSeq(event.event_id as number)))
      ?.matrixEventId;
    expect(matrixId).toBe(roomMessages(s.roomId).find((e) => e.content.body === "once")?.event_id);
  });

  it("a retry after a lost answer posts once (the same txnId)", async () => {
    const s = await scene();
    // The echo is held back, so the outbox retries before it knows the first attempt landed.
    m.fake.holdDeliveries();
    m.fake.loseNextAnswer("sendMessage");
    await s.alice.say(s.channel, "retried");
    const calls = () =>
      m.fake
        .callsOf("sendMessage")
        .filter((c) => (c.args[2] as { content: { body: string } }).content.body === "retried");
    await expect.poll(() => calls().length, { timeout: 3_000 }).toBe(2);
    m.fake.releaseDeliveries();
    await m.settle();
    const txnIds = new Set(calls().map((c) => (c.args[3] as { txnId: string }).txnId));
    expect(txnIds.size).toBe(1);
    expect(bodies(s.roomId).filter((b) => b === "retried")).toHaveLength(1);
    expect(messagesOf(s.bob, s.channel).filter((e) => bodyOf(e) === "retried")).toHaveLength(1);
  });

  it("a homeserver's 429 is honoured: the entry waits as long as asked, then goes", async () => {
    const s = await scene();
    m.fake.failNext("sendMessage", FakeMatrix.rateLimited(400));
    const started = Date.now();
    await s.alice.say(s.channel, "patient");
    await s.alice.say(s.channel, "behind it");
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(bodies(s.roomId)).toEqual([]);
    await expect.poll(() => bodies(s.roomId), { timeout: 3_000 }).toEqual(["patient", "behind it"]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
  });

  it("edits, deletes and reactions to messages still in the outbox reach Matrix on the right events", async () => {
    const s = await scene();
    m.fake.unavailable = true;
    let first: Record<string, unknown>;
    let second: Record<string, unknown>;
    try {
      first = await s.alice.say(s.channel, "draft");
      await s.alice.ok("chat.send", {
        channel: s.channel,
        event_type: "channel.message",
        content: { type: "text", body: "final" },
        replaces: first.event_id,
      });
      await s.bob.ok("chat.react", { channel: s.channel, event: first.event_id, reaction: "👍" });
      await s.bob.ok("chat.react", { channel: s.channel, event: first.event_id, reaction: "🎉" });
      await s.bob.ok("chat.react", {
        channel: s.channel,
        event: first.event_id,
        reaction: "🎉",
        delete: true,
      });
      second = await s.alice.say(s.channel, "to delete", { reply_to: first.event_id });
      await s.alice.ok("chat.send", {
        channel: s.channel,
        event_type: "channel.message",
        content: { type: "deleted" },
        replaces: second.event_id,
      });
    } finally {
      m.fake.unavailable = false;
    }
    await m.settle();
    const events = m.fake.room(s.roomId).events;
    const original = events.find((e) => e.content.body === "draft");
    const reply = events.find((e) => e.content.body === "to delete");
    expect(original && reply).toBeTruthy();
    const edit = events.find((e) => relation(e)?.rel_type === "m.replace");
    expect(relation(edit as RawEvent)?.event_id).toBe(original?.event_id);
    expect(edit?.content["m.new_content"]).toMatchObject({ body: "final" });
    expect(relation(reply as RawEvent)).toMatchObject({ "m.in_reply_to": { event_id: original?.event_id } });
    const reactions = events.filter((e) => e.type === "m.reaction");
    expect(reactions.map((e) => relation(e))).toEqual([
      { rel_type: "m.annotation", event_id: original?.event_id, key: "👍" },
      { rel_type: "m.annotation", event_id: original?.event_id, key: "🎉" },
    ]);
    const redactions = events.filter((e) => e.type === "m.room.redaction").map((e) => e.redacts);
    expect(redactions).toEqual([reactions[1]?.event_id, reply?.event_id]);
    // And natively the summary is what Matrix shows: one 👍 from Bob.
    const page = await s.alice.ok("chat.fetch", { channel: s.channel, count: 50 });
    const shown = (page.results as Array<Record<string, unknown>>).find((e) => e.event_id === first.event_id);
    expect(shown?.reactions).toEqual({ "👍": [puppet(s.names.bob)] });
  });

  it("a message the homeserver refuses for good is withdrawn: a delete for everyone, chat.send.failed for the sender", async () => {
    const s = await scene();
    m.fake.failNext("sendMessage", FakeMatrix.refused(403));
    const event = await s.alice.say(s.channel, "refused");
    const failed = await s.alice.waitFor((f) => f[0] === "chat.send.failed");
    expect(failed[1]).toEqual({
      channel: s.channel,
      event_id: event.event_id,
      code: "chat.denied",
      message: expect.any(String),
    });
    await s.bob.waitForEvent((e) => e.replaces === event.event_id && bodyOf(e) === undefined);
    const deleted = s.bob.events(s.channel).find((e) => e.replaces === event.event_id);
    expect(deleted?.content).toEqual({ type: "deleted" });
    await s.alice.say(s.channel, "after");
    await m.settle();
    // Never retried: it could not succeed. What came after it still went.
    const attempts = m.fake
      .callsOf("sendMessage")
      .filter((c) => (c.args[2] as { content: { body: string } }).content.body === "refused");
    expect(attempts).toHaveLength(1);
    expect(bodies(s.roomId)).toEqual(["after"]);
  });

  it("entries waiting when Parley stops go out when it starts again", async () => {
    const s = await scene();
    m.fake.unavailable = true;
    await s.alice.say(s.channel, "before the stop");
    await s.alice.say(s.channel, "also before");
    await m.services.background.stop();
    m.fake.unavailable = false;
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(bodies(s.roomId)).toEqual([]);
    await m.services.background.start();
    await m.settle();
    expect(bodies(s.roomId)).toEqual(["before the stop", "also before"]);
  });
});

describe("membership and moderation from native users", () => {
  it("a kick holds at once and reaches Matrix as the moderator's puppet, logged once", async () => {
    const s = await scene();
    await s.alice.ok("chat.kick", { channel: s.channel, user: puppet(s.names.bob), reason: "spam" });
    expect(
      await s.bob.errorCode("chat.send", {
        channel: s.channel,
        event_type: "channel.message",
        content: { type: "text", body: "still here?" },
      }),
    ).toBe("chat.denied");
    await m.settle();
    expect(m.fake.room(s.roomId).members.get(puppet(s.names.bob))).toBe("leave");
    const kick = m.fake
      .room(s.roomId)
      .events.find(
        (e) =>
          e.type === "m.room.member" &&
          e.state_key === puppet(s.names.bob) &&
          e.content.membership === "leave",
      );
    expect(kick).toMatchObject({ sender: puppet(s.names.alice), content: { reason: "spam" } });
    const logged = s.alice
      .events(s.channel)
      .filter(
        (e) =>
          e.event_type === "channel.member" &&
          (e.content as { user: { id: string } }).user.id === puppet(s.names.bob),
      );
    expect(logged.map((e) => (e.content as { membership: string }).membership)).toEqual(["join", "leave"]);
    expect(logged[1]?.content).toMatchObject({ by: puppet(s.names.alice), reason: "spam" });
  });

  it("a ban the homeserver refuses is undone natively, and the moderator is told", async () => {
    const s = await scene();
    m.fake.failNext("setMembership", FakeMatrix.refused(403));
    const before = s.alice.received.length;
    await s.alice.ok("chat.ban", { channel: s.channel, user: s.carolId });
    const failed = await s.alice.waitFor((f) => f[0] === "chat.send.failed");
    expect(failed[1]).toMatchObject({ channel: s.channel, code: "chat.denied" });
    await m.settle();
    expect((await m.store.member(s.channelId, s.carolId as never))?.membership).toBe("join");
    const pushed = s.alice.received
      .slice(before)
      .filter((f) => f[0] === "chat.event")
      .map((f) => (f[1] as { content: { membership?: string } }).content.membership);
    expect(pushed).toEqual(["ban", "join"]);
    expect(m.fake.room(s.roomId).members.get(s.carolId)).toBe("join");
  });

  it("a join the room refuses is undone: the user is out again, and told", async () => {
    const s = await scene();
    const dave = await m.login(unique("dave"), "Dave");
    m.fake.failNext("setMembership", FakeMatrix.refused(403));
    const joined = await dave.ok("chat.join", { channel: s.channel });
    expect(joined.next_event_id).toBeGreaterThan(0);
    const failed = await dave.waitFor((f) => f[0] === "chat.send.failed");
    expect(failed[1]).toMatchObject({ channel: s.channel, code: "chat.denied" });
    expect(
      await dave.errorCode("chat.send", {
        channel: s.channel,
        event_type: "channel.message",
        content: { type: "text", body: "hi" },
      }),
    ).toBe("chat.denied");
  });

  it("a user muted in Element (a power level below posting) is refused natively, before the outbox", async () => {
    const s = await scene();
    await s.alice.ok("chat.set_role", { channel: s.channel, user: s.carolId, role: "owner" });
    await m.settle();
    s.carol.setPowerLevel(s.roomId, puppet(s.names.bob), -1);
    await m.settle();
    const before = m.fake.callsOf("sendMessage").length;
    expect(
      await s.bob.errorCode("chat.send", {
        channel: s.channel,
        event_type: "channel.message",
        content: { type: "text", body: "muted?" },
      }),
    ).toBe("chat.denied");
    await m.settle();
    expect(m.fake.callsOf("sendMessage").length).toBe(before);
  });

  it("a marker copied by a Matrix user does not hide their message or take over the entry", async () => {
    const s = await scene();
    await s.alice.say(s.channel, "original");
    await m.settle();
    const marked = roomMessages(s.roomId).find((e) => e.content.body === "original");
    const marker = marked?.content[MARKER_KEY];
    expect(typeof marker).toBe("string");
    s.carol.send(s.roomId, { msgtype: "m.text", body: "forged", [MARKER_KEY]: marker });
    await m.settle();
    expect(messagesOf(s.alice, s.channel).map(bodyOf)).toEqual(["original", "forged"]);
  });
});

describe("read receipts", () => {
  it("a read of a message not on Matrix yet becomes a receipt once it is", async () => {
    const s = await scene();
    m.fake.unavailable = true;
    let event: Record<string, unknown>;
    try {
      event = await s.alice.say(s.channel, "read me");
      await s.bob.ok("chat.mark_read", { channel: s.channel, id: event.event_id });
      expect(m.fake.receipts.filter((r) => r.userId === puppet(s.names.bob))).toEqual([]);
    } finally {
      m.fake.unavailable = false;
    }
    await m.settle();
    const mirrored = roomMessages(s.roomId).find((e) => e.content.body === "read me");
    expect(m.fake.receipts.filter((r) => r.userId === puppet(s.names.bob))).toEqual([
      { roomId: s.roomId, userId: puppet(s.names.bob), eventId: mirrored?.event_id },
    ]);
  });
});

describe("pace", () => {
  it("one entry in flight per room, several rooms at once; natives never wait for the homeserver", async () => {
    const [a, b] = [await scene(), await scene()];
    m.fake.answerAfterMs = 150;
    m.fake.mostInFlightPerRoom = 0;
    try {
      for (let i = 0; i < 5; i++) {
        await a.alice.say(a.channel, `a${i}`);
        await b.alice.say(b.channel, `b${i}`);
      }
      // All ten acknowledged while the homeserver has taken at most the first of each room.
      expect(bodies(a.roomId).length + bodies(b.roomId).length).toBeLessThanOrEqual(2);
      await m.settle();
    } finally {
      m.fake.answerAfterMs = 0;
    }
    expect(m.fake.mostInFlightPerRoom).toBe(1);
    expect(bodies(a.roomId)).toEqual(["a0", "a1", "a2", "a3", "a4"]);
    expect(bodies(b.roomId)).toEqual(["b0", "b1", "b2", "b3", "b4"]);
  });
});
