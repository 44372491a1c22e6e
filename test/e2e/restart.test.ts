// A Parley restart in the middle of a conversation loses nothing and duplicates nothing: the
// channel keeps its room, event_ids continue, and what Matrix users said meanwhile arrives once.
import Database from "better-sqlite3";
import { afterAll, beforeAll, expect, it } from "vitest";
import { TestClient } from "../support/client.ts";
import { MatrixUser } from "../support/matrix-user.ts";
import { startTestParley, type TestParley, unique } from "../support/parley.ts";

let parley: TestParley;
let carol: MatrixUser;
beforeAll(async () => {
  parley = await startTestParley();
  carol = await MatrixUser.register(parley.env.homeserverUrl, unique("carol"), "Carol");
});
afterAll(async () => {
  carol?.stop();
  await parley?.stop();
});

const send = (client: TestClient, channel: string, body: string) =>
  client.ok("chat.send", { channel, event_type: "channel.message", content: { type: "text", body } });

it("restarting Parley mid-conversation loses and duplicates nothing", async () => {
  const channel = unique("durable");
  const aliceName = unique("alice");
  let alice = await TestClient.login(parley.url(), { token: await parley.token(aliceName, "Alice") });
  const joined = await alice.ok("chat.join", { channel });
  const roomId = (joined.state as { room_id: string }).room_id;
  await carol.join(roomId);
  await alice.waitForEvent((e) => e.sender === carol.userId && e.event_type === "channel.member");
  await send(alice, channel, "before 1");
  await carol.sendText(roomId, "carol before");
  const lastBefore = await alice.waitForEvent(
    (e) => (e.content as { body?: string }).body === "carol before",
  );

  // Parley goes away; Carol keeps talking. Synapse cannot deliver and backs off.
  alice.close();
  await parley.stop();
  const whileDown = ["while down 1", "while down 2", "while down 3"];
  for (const body of whileDown) await carol.sendText(roomId, body);

  await parley.restart();
  alice = await TestClient.login(parley.url(), { token: await parley.token(aliceName) });

  // The restarted Parley pings Synapse, which then delivers its backlog at once.
  const expectedNext = (lastBefore.event_id as number) + 1 + whileDown.length;
  await expect
    .poll(async () => (await alice.ok("chat.subscribe", { channel })).next_event_id, {
      timeout: 15_000,
      interval: 200,
    })
    .toBe(expectedNext);

  // Same room, same membership: joining again is a no-op and changes nothing.
  const rejoined = await alice.ok("chat.join", { channel });
  expect((rejoined.state as { room_id: string }).room_id).toBe(roomId);
  expect(rejoined.next_event_id).toBe(expectedNext);

  // event_ids continue after the restart.
  const after = await send(alice, channel, "after restart");
  expect((after.event as { event_id: number }).event_id).toBe(expectedNext);
  await carol.waitForEvent((r) => r.roomId === roomId && r.event.content.body === "after restart");
  await carol.sendText(roomId, "carol after");
  const carolAfter = await alice.waitForEvent((e) => (e.content as { body?: string }).body === "carol after");
  expect(carolAfter.event_id).toBe(expectedNext + 1);

  // The log holds every message exactly once, in order, with consecutive ids.
  const db = new Database(parley.config.store.sqlitePath, { readonly: true });
  try {
    const rows = db
      .prepare(
        "SELECT e.seq, e.event_type, e.content FROM events e JOIN channels c ON c.id = e.channel_id WHERE c.name = ? ORDER BY e.seq",
      )
      .all(channel) as Array<{ seq: number; event_type: string; content: string }>;
    expect(rows.map((r) => r.seq)).toEqual(rows.map((_, i) => i + 1));
    const bodies = rows
      .filter((r) => r.event_type === "channel.message")
      .map((r) => (JSON.parse(r.content) as { body: string }).body);
    expect(bodies).toEqual(["before 1", "carol before", ...whileDown, "after restart", "carol after"]);
    const channels = db.prepare("SELECT COUNT(*) AS n FROM channels WHERE name = ?").get(channel) as {
      n: number;
    };
    expect(channels.n).toBe(1);
  } finally {
    db.close();
  }
  // Matrix saw each native message once.
  expect(carol.messages(roomId).filter((b) => b === "before 1" || b === "after restart")).toEqual([
    "before 1",
    "after restart",
  ]);
  alice.close();
});

it("a transaction Synapse replays changes nothing", async () => {
  const channel = unique("replay");
  const alice = await TestClient.login(parley.url(), { token: await parley.token(unique("alice"), "Alice") });
  const joined = await alice.ok("chat.join", { channel });
  const roomId = (joined.state as { room_id: string }).room_id;
  await carol.join(roomId);
  const eventId = await carol.sendText(roomId, "say it once");
  const first = await alice.waitForEvent((e) => (e.content as { body?: string }).body === "say it once");

  // Replay the same event the way Synapse retries a transaction (any txnId, even a used one).
  const registration = (await import("../../src/matrix/registration.ts")).readRegistration(
    parley.env.registrationPath,
  );
  const event = {
    event_id: eventId,
    room_id: roomId,
    sender: carol.userId,
    type: "m.room.message",
    origin_server_ts: Date.now(),
    content: { msgtype: "m.text", body: "say it once" },
  };
  for (const txnId of ["1", "999999", "1"]) {
    const response = await fetch(
      `http://127.0.0.1:${parley.env.appservicePort}/_matrix/app/v1/transactions/${txnId}`,
      {
        method: "PUT",
        headers: { "content-type": "application/json", authorization: `Bearer ${registration.hs_token}` },
        body: JSON.stringify({ events: [event] }),
      },
    );
    expect(response.status).toBe(200);
  }
  await alice.ok("chat.send", {
    channel,
    event_type: "channel.message",
    content: { type: "text", body: "marker" },
  });
  await alice.waitForEvent((e) => (e.content as { body?: string }).body === "marker");
  expect(
    alice.events(channel).filter((e) => (e.content as { body?: string }).body === "say it once"),
  ).toEqual([first]);
  alice.close();
});
