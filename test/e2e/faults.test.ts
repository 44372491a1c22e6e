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

async function fetchAll(client: TestClient, channel: string): Promise<Array<Record<string, unknown>>> {
  const all: Array<Record<string, unknown>> = [];
  let after = 0;
  for (;;) {
    const page = (await client.ok("chat.fetch", { channel, after_id: after, count: 200 })).results as Array<
      Record<string, unknown>
    >;
    if (page.length === 0) return all;
    all.push(...page);
    after = page.at(-1)?.event_id as number;
  }
}

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
      .poll(async () => (await fetchAll(back, channel)).some((e) => bodyOf(e) === lastCarol), {
        timeout: 20_000,
      })
      .toBe(true);

    const log = (await fetchAll(back, channel)).filter((e) => e.event_type === "channel.message").map(bodyOf);
    for (const body of [...acknowledged, ...fromCarol])
      expect(
        log.filter((b) => b === body),
        body,
      ).toHaveLength(1);
    expect(new Set(log).size).toBe(log.length);
    const ids = (await fetchAll(back, channel)).map((e) => e.event_id as number);
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

  it("with Synapse down, sends fail fast with upstream.unavailable and a retry posts once", async () => {
    const { channel, alice, roomId } = await setUp("outage");
    const before = await alice.ok("chat.subscribe", { channel });
    await stack.synapse.stop();
    try {
      const started = Date.now();
      const failed = await sendText(alice, channel, "during the outage", "retry-me");
      expect(failed).toMatchObject({ ok: false, error: { code: "upstream.unavailable" } });
      expect(Date.now() - started).toBeLessThan(5_000);
      // Nothing half-done: a join fails the same way and changes no membership.
      const other = unique("other");
      const join = await alice.request("chat.join", { channel: other });
      expect(join).toMatchObject({ ok: false, error: { code: "upstream.unavailable" } });
      const after = await alice.ok("chat.subscribe", { channel });
      expect(after.next_event_id).toBe(before.next_event_id);
      expect(after.members).toEqual(before.members);
      // Power-level writes with the homeserver gone (a role, a timeout, all channels at once) are
      // refused, never the end of the process (the stack fails on any "(a bug)" log line).
      const target = `@chat_${unique("someone")}:localhost`;
      for (const [action, payload] of [
        ["chat.set_role", { channel, user: target, role: "moderator" }],
        ["chat.set_role", { all_channels: true, user: target, role: "moderator" }],
        ["chat.timeout", { channel, user: target, duration: 120 }],
      ] as const) {
        expect(await alice.errorCode(action, payload), action).toBe("upstream.unavailable");
      }
      await alice.ping();
    } finally {
      await stack.synapse.restart();
    }
    const first = await sendText(alice, channel, "during the outage", "retry-me");
    const second = await sendText(alice, channel, "during the outage", "retry-me");
    expect(first.ok && second.ok).toBe(true);
    if (!first.ok || !second.ok) return;
    expect(second.result.event).toEqual(first.result.event);
    await carol.waitForEvent((r) => r.roomId === roomId && r.event.content.body === "during the outage");
    await sendText(alice, channel, "marker");
    await carol.waitForEvent((r) => r.roomId === roomId && r.event.content.body === "marker");
    expect(carol.messages(roomId).filter((b) => b === "during the outage")).toHaveLength(1);
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
      .poll(async () => (await fetchAll(back, channel)).map(bodyOf).filter((b) => lost.includes(b ?? "")), {
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
});
