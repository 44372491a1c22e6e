// Faults lose no accepted message: Parley SIGKILLed mid-conversation, Synapse down, transactions
// Synapse never delivered, and events Parley cannot read. Each with its own Synapse and Parley
// running as a real process.
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Reply, TestClient } from "../support/client.ts";
import { MatrixUser } from "../support/matrix-user.ts";
import { unique } from "../support/parley.ts";
import { type Stack, startStack } from "../support/stack.ts";

let stack: Stack;
let carol: MatrixUser;

beforeAll(async () => {
  stack = await startStack("faults", { proxy: true });
  carol = await MatrixUser.register(stack.config.homeserver.url, unique("carol"), "Carol");
}, 120_000);
afterAll(async () => {
  carol?.stop();
  await stack?.stop();
});

const bodyOf = (e: Record<string, unknown>) => (e.content as { body?: string }).body;

async function setUp(name: string) {
  const channel = unique(name);
  const aliceName = unique("alice");
  const alice = await TestClient.login(stack.gatewayUrl, { token: await stack.token(aliceName, "Alice") });
  const joined = await alice.ok("chat.join", { channel });
  const roomId = (joined.state as { room_id: string }).room_id;
  await carol.join(roomId);
  await alice.waitForEvent((e) => e.sender === carol.userId);
  return { channel, aliceName, alice, roomId };
}

/** The bodies of a room's messages, oldest first, as the homeserver has them now. */
const roomBodies = (roomId: string): Promise<string[]> => carol.roomBodies(roomId);

const sendText = (client: TestClient, channel: string, body: string, txn_id?: string): Promise<Reply> =>
  client.request("chat.send", {
    channel,
    event_type: "channel.message",
    content: { type: "text", body },
    ...(txn_id ? { txn_id } : {}),
  });

describe("faults", () => {
  it("Parley SIGKILLed while messages flow both ways loses and duplicates nothing", async () => {
    const { channel, aliceName, alice, roomId } = await setUp("crash");
    const acknowledged: string[] = [];
    const unacknowledged: string[] = [];
    const fromCarol: string[] = [];
    let running = true;

    const aliceLoop = (async () => {
      for (let i = 0; running && i < 200; i++) {
        const body = `alice ${i}`;
        try {
          const reply = await sendText(alice, channel, body, `txn-${i}`);
          if (reply.ok) acknowledged.push(body);
        } catch {
          unacknowledged.push(body); // the connection died before the reply
          return;
        }
      }
    })();
    const carolLoop = (async () => {
      for (let i = 0; running && i < 200; i++) {
        await carol.sendText(roomId, `carol ${i}`);
        fromCarol.push(`carol ${i}`);
      }
    })();

    await expect.poll(() => acknowledged.length, { timeout: 20_000 }).toBeGreaterThan(15);
    await stack.killParley();
    await new Promise((r) => setTimeout(r, 500)); // Carol keeps talking into the outage
    running = false;
    await carolLoop;
    await aliceLoop.catch(() => undefined);
    await stack.startParley();

    const back = await TestClient.login(stack.gatewayUrl, { token: await stack.token(aliceName) });
    // The message in flight at the crash is retried with its txn_id, as a client should.
    for (const body of unacknowledged) {
      const retry = await sendText(back, channel, body, `txn-${body.split(" ")[1]}`);
      expect(retry.ok).toBe(true);
      acknowledged.push(body);
    }
    const lastCarol = fromCarol.at(-1) as string;
    await back.ok("chat.subscribe", { channel });
    await expect
      .poll(async () => (await back.fetchAll(channel)).some((e) => bodyOf(e) === lastCarol), {
        timeout: 20_000,
      })
      .toBe(true);

    const log = (await back.fetchAll(channel)).filter((e) => e.event_type === "channel.message").map(bodyOf);
    for (const body of [...acknowledged, ...fromCarol])
      expect(
        log.filter((b) => b === body),
        body,
      ).toHaveLength(1);
    expect(new Set(log).size).toBe(log.length);
    const ids = (await back.fetchAll(channel)).map((e) => e.event_id as number);
    expect(ids).toEqual(ids.map((_, i) => (ids[0] as number) + i));

    // Matrix has every acknowledged native message exactly once.
    await carol.waitForEvent((r) => r.roomId === roomId && r.event.content.body === acknowledged.at(-1));
    const seenByCarol = carol.messages(roomId);
    for (const body of acknowledged)
      expect(
        seenByCarol.filter((b) => b === body),
        body,
      ).toHaveLength(1);
    back.close();
    alice.close();
  });

  it("Synapse frozen mid-conversation: natives keep chatting; Matrix then catches up in order, at the original times", async () => {
    const { channel, alice, roomId } = await setUp("frozen");
    const bob = await TestClient.login(stack.gatewayUrl, { token: await stack.token(unique("bob"), "Bob") });
    await bob.ok("chat.join", { channel });
    await carol.waitForEvent(
      (r) => r.roomId === roomId && r.event.type === "m.room.member" && r.event.content.displayname === "Bob",
    );
    const sent: Array<Record<string, unknown>> = [];
    process.kill(stack.synapse.pid, "SIGSTOP");
    try {
      for (let i = 0; i < 20; i++) {
        sent.push(await (i % 2 === 0 ? alice : bob).say(channel, `frozen ${i}`));
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      // Everyone native has it all, while the homeserver has nothing.
      await alice.waitForEvent((e) => bodyOf(e) === "frozen 19");
      await bob.waitForEvent((e) => bodyOf(e) === "frozen 19");
      expect(
        alice
          .events(channel)
          .filter((e) => bodyOf(e)?.startsWith("frozen"))
          .map(bodyOf),
      ).toEqual(sent.map(bodyOf));
      expect(carol.messages(roomId).filter((b) => b.startsWith("frozen"))).toEqual([]);
    } finally {
      process.kill(stack.synapse.pid, "SIGCONT");
    }
    await carol.waitForEvent((r) => r.roomId === roomId && r.event.content.body === "frozen 19", 60_000);
    const mirrored = carol.events.filter(
      (r) =>
        r.roomId === roomId &&
        r.event.type === "m.room.message" &&
        String(r.event.content.body).startsWith("frozen"),
    );
    expect(mirrored.map((r) => r.event.content.body)).toEqual(sent.map(bodyOf));
    // Said while the homeserver was frozen, shown in Matrix at the time it was said.
    expect(mirrored.map((r) => r.event.origin_server_ts)).toEqual(sent.map((e) => e.ts));
    // The echoes did not come back as second copies.
    await alice.say(channel, "after the thaw");
    await carol.waitForEvent((r) => r.roomId === roomId && r.event.content.body === "after the thaw");
    const log = (await alice.fetchAll(channel)).filter((e) => bodyOf(e)?.startsWith("frozen"));
    expect(log.map(bodyOf)).toEqual(sent.map(bodyOf));
    bob.close();
    alice.close();
  }, 120_000);

  it("with Synapse stopped, joining a channel without a room fails fast and changes nothing; the rest goes on", async () => {
    const { channel, alice, roomId } = await setUp("outage");
    await stack.synapse.stop();
    try {
      const other = unique("other");
      const started = Date.now();
      const join = await alice.request("chat.join", { channel: other });
      expect(join).toMatchObject({ ok: false, error: { code: "upstream.unavailable" } });
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(await alice.errorCode("chat.members", { channel: other })).toBe("chat.unknown");
      // Roles and timeouts hold natively at once (the stack fails on any "(a bug)" log line).
      const target = `@chat_${unique("someone")}:localhost`;
      await alice.ok("chat.set_role", { channel, user: target, role: "moderator" });
      await alice.ok("chat.set_role", { all_channels: true, user: target, role: "user" });
      const retried = await sendText(alice, channel, "during the outage", "retry-me");
      const again = await sendText(alice, channel, "during the outage", "retry-me");
      expect(retried.ok && again.ok).toBe(true);
      if (retried.ok && again.ok) expect(again.result.event).toEqual(retried.result.event);
    } finally {
      await stack.synapse.restart();
    }
    await carol.waitForEvent(
      (r) => r.roomId === roomId && r.event.content.body === "during the outage",
      60_000,
    );
    await sendText(alice, channel, "marker");
    await carol.waitForEvent((r) => r.roomId === roomId && r.event.content.body === "marker");
    expect(carol.messages(roomId).filter((b) => b === "during the outage")).toHaveLength(1);
    alice.close();
  }, 120_000);

  it("Parley SIGKILLed with a full outbox, and again while it drains: every message reaches Matrix once", async () => {
    const { channel, aliceName, alice, roomId } = await setUp("backlog");
    await stack.synapse.stop();
    const bodies: string[] = [];
    try {
      for (let i = 0; i < 40; i++) {
        const reply = await sendText(alice, channel, `queued ${i}`);
        expect(reply.ok).toBe(true);
        bodies.push(`queued ${i}`);
      }
    } finally {
      await stack.killParley();
      await stack.synapse.restart();
    }
    alice.close();
    await stack.startParley();
    // Killed again while the backlog drains: some entries posted, their answers perhaps unrecorded.
    await expect
      .poll(async () => (await roomBodies(roomId)).length, { timeout: 60_000, interval: 25 })
      .toBeGreaterThan(3);
    await stack.killParley();
    await stack.startParley();
    const back = await TestClient.login(stack.gatewayUrl, { token: await stack.token(aliceName) });
    await sendText(back, channel, "drained");
    // Read from the room itself (Carol's sync client is still backing off from the outage).
    await expect.poll(async () => (await roomBodies(roomId)).at(-1), { timeout: 60_000 }).toBe("drained");
    expect((await roomBodies(roomId)).filter((b) => b.startsWith("queued "))).toEqual(bodies);
    // Natively too, each once (no echo logged as a second copy).
    const log = (await back.fetchAll(channel)).map(bodyOf).filter((b) => b?.startsWith("queued "));
    expect(log).toEqual(bodies);
    back.close();
  }, 120_000);

  it("edits, replies, reactions and deletes of messages still in the outbox reach Matrix on the right events", async () => {
    const { channel, alice, roomId } = await setUp("refs");
    await stack.synapse.stop();
    try {
      const draft = await alice.say(channel, "draft");
      await alice.ok("chat.send", {
        channel,
        event_type: "channel.message",
        content: { type: "text", body: "final" },
        replaces: draft.event_id,
      });
      await alice.ok("chat.react", { channel, event: draft.event_id, reaction: "👍" });
      await alice.say(channel, "a reply", { reply_to: draft.event_id });
      const doomed = await alice.say(channel, "to delete");
      await alice.ok("chat.send", {
        channel,
        event_type: "channel.message",
        content: { type: "deleted" },
        replaces: doomed.event_id,
      });
      await alice.say(channel, "refs done");
    } finally {
      await stack.synapse.restart();
    }
    await carol.waitForEvent((r) => r.roomId === roomId && r.event.content.body === "refs done", 60_000);
    const inRoom = carol.events.filter((r) => r.roomId === roomId).map((r) => r.event);
    const original = inRoom.find((e) => e.content.body === "draft");
    const reply = inRoom.find((e) => e.content.body === "a reply");
    const relation = (e: { content: Record<string, unknown> }) =>
      e.content["m.relates_to"] as Record<string, unknown>;
    const edit = inRoom.find((e) => relation(e)?.rel_type === "m.replace");
    expect(relation(edit as never)).toMatchObject({ event_id: original?.event_id });
    expect(edit?.content["m.new_content"]).toMatchObject({ body: "final" });
    expect(relation(reply as never)).toMatchObject({ "m.in_reply_to": { event_id: original?.event_id } });
    const reaction = inRoom.find((e) => e.type === "m.reaction");
    expect(relation(reaction as never)).toEqual({
      rel_type: "m.annotation",
      event_id: original?.event_id,
      key: "👍",
    });
    await carol.waitForEvent((r) => r.roomId === roomId && r.event.type === "m.room.redaction");
    const redaction = carol.events.find((r) => r.roomId === roomId && r.event.type === "m.room.redaction");
    // The deleted message is the one right before the redaction (its content is gone now).
    const doomed = inRoom[inRoom.findIndex((e) => e.type === "m.room.redaction") - 1];
    expect(doomed?.type).toBe("m.room.message");
    expect(redaction?.event.redacts ?? redaction?.event.content.redacts).toBe(doomed?.event_id);
    alice.close();
  }, 120_000);

  it("a message the homeserver refuses is withdrawn natively, and its sender told why", async () => {
    const { channel, alice, roomId } = await setUp("refused");
    const bobName = unique("bob");
    const bob = await TestClient.login(stack.gatewayUrl, { token: await stack.token(bobName, "Bob") });
    await bob.ok("chat.join", { channel });
    // Carol becomes an owner, then mutes Bob in her client while Parley does not hear of it.
    await alice.ok("chat.set_role", { channel, user: carol.userId, role: "owner" });
    await expect
      .poll(
        async () =>
          (
            (await carol.client.getRoomStateEvent(roomId, "m.room.power_levels", "")) as {
              users: Record<string, number>;
            }
          ).users[carol.userId],
        { timeout: 20_000 },
      )
      .toBe(100);
    stack.dropTransactions = true;
    try {
      const levels = (await carol.client.getRoomStateEvent(roomId, "m.room.power_levels", "")) as {
        users: Record<string, number>;
      };
      await carol.client.sendStateEvent(roomId, "m.room.power_levels", "", {
        ...levels,
        users: { ...levels.users, [`@chat_${bobName}:localhost`]: -1 },
      });
      const sent = await bob.say(channel, "muted on Matrix");
      const failed = await bob.waitFor((f) => f[0] === "chat.send.failed", 20_000);
      expect(failed[1]).toMatchObject({ channel, event_id: sent.event_id, code: "chat.denied" });
      const withdrawn = await alice.waitForEvent((e) => e.replaces === sent.event_id);
      expect(withdrawn.content).toEqual({ type: "deleted" });
    } finally {
      stack.dropTransactions = false;
    }
    await alice.say(channel, "still flowing");
    await carol.waitForEvent((r) => r.roomId === roomId && r.event.content.body === "still flowing");
    expect(carol.messages(roomId)).not.toContain("muted on Matrix");
    bob.close();
    alice.close();
  });

  it("events Synapse never delivered are recovered from /messages at start-up", async () => {
    const { channel, aliceName, alice, roomId } = await setUp("gap");
    stack.dropTransactions = true;
    const lost = ["lost 1", "lost 2", "lost 3"];
    for (const body of lost) await carol.sendText(roomId, body);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(alice.events(channel).some((e) => lost.includes(bodyOf(e) ?? ""))).toBe(false);
    stack.dropTransactions = false;

    await stack.stopParley();
    await stack.startParley();
    const back = await TestClient.login(stack.gatewayUrl, { token: await stack.token(aliceName) });
    await expect
      .poll(async () => (await back.fetchAll(channel)).map(bodyOf).filter((b) => lost.includes(b ?? "")), {
        timeout: 15_000,
      })
      .toEqual(lost);
    back.close();
    alice.close();
  });

  it("an event Parley cannot understand is recorded, skipped, and the stream keeps flowing", async () => {
    const { channel, alice, roomId } = await setUp("odd");
    const odd = await carol.client.sendEvent(roomId, "org.example.unknown", { anything: [1, 2, 3] });
    const weird = await carol.client.sendMessage(roomId, {
      msgtype: "org.example.hologram",
      body: "a hologram",
    });
    await carol.sendText(roomId, "still flowing");
    await alice.waitForEvent((e) => bodyOf(e) === "still flowing");
    const db = new Database(stack.config.store.sqlitePath, { readonly: true });
    try {
      const rows = db
        .prepare("SELECT matrix_event_id, status FROM inbox WHERE matrix_event_id IN (?, ?)")
        .all(odd, weird);
      expect(rows).toEqual(
        expect.arrayContaining([
          { matrix_event_id: odd, status: "skipped" },
          { matrix_event_id: weird, status: "skipped" },
        ]),
      );
    } finally {
      db.close();
    }
    expect(alice.events(channel).map(bodyOf)).not.toContain("a hologram");
    alice.close();
  });

  it("connected native users stay present on Matrix past Synapse's presence timeouts, and go offline when Parley is killed", async () => {
    const { channel, alice, aliceName } = await setUp("presence");
    const danaName = unique("dana");
    const dana = await TestClient.login(stack.gatewayUrl, { token: await stack.token(danaName, "Dana") });
    await dana.ok("chat.join", { channel });
    await dana.ok("user.presence", { status: "dnd" });
    const puppet = (name: string) => `@chat_${name}:${stack.config.homeserver.serverName}`;
    const presenceOf = async (name: string) => {
      const { presence, status_msg } = (await carol.client.doRequest(
        "GET",
        `/_matrix/client/v3/presence/${encodeURIComponent(puppet(name))}/status`,
      )) as { presence: string; status_msg?: string };
      return presence === "unavailable" ? `${presence}: ${status_msg}` : presence;
    };
    const both = async () => [await presenceOf(aliceName), await presenceOf(danaName)];
    const present = ["online", "unavailable: Do not disturb"];
    await expect.poll(both, { timeout: 10_000 }).toEqual(present);
    // Without being told again, Synapse shows a silent puppet offline after about 35 s when
    // unavailable and 70 s when online (its checks run on timers of their own): watch for 80 s.
    const seen = new Set<string>();
    for (const started = Date.now(); Date.now() - started < 80_000; ) {
      seen.add(JSON.stringify(await both()));
      await new Promise((resolve) => setTimeout(resolve, 5_000));
    }
    expect([...seen]).toEqual([JSON.stringify(present)]);
    // Killed, Parley says nothing more: Synapse's own timeout shows them offline, no sweeper needed.
    await stack.killParley();
    try {
      await expect.poll(both, { timeout: 100_000, interval: 2_000 }).toEqual(["offline", "offline"]);
    } finally {
      alice.close();
      dana.close();
      await stack.startParley();
    }
  }, 300_000);
});
