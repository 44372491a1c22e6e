// Parley as two nodes (real processes) over a private PostgreSQL and Redis, beside a real Synapse
// that reaches them through one appservice URL. Native clients on either node and an ordinary
// Matrix user share channels: every message reaches everyone once, in one order; a node killed
// mid-stream or a Redis restart loses nothing.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bodyOf, type Reply, TestClient } from "../support/client.ts";
import { type ClusterStack, startClusterStack } from "../support/cluster-stack.ts";
import { MatrixUser } from "../support/matrix-user.ts";
import { unique } from "../support/parley.ts";

let stack: ClusterStack;
let carol: MatrixUser;
const clients: TestClient[] = [];

beforeAll(async () => {
  stack = await startClusterStack("cluster");
  carol = await MatrixUser.register(stack.synapse.url, unique("carol"), "Carol");
}, 180_000);
afterAll(async () => {
  for (const client of clients) client.close();
  carol?.stop();
  await stack?.stop();
}, 60_000);

const node = (i: number) => {
  const found = stack.nodes[i];
  if (!found) throw new Error(`no node ${i}`);
  return found;
};

async function login(nodeIndex: number, name: string, displayName: string): Promise<TestClient> {
  const client = await TestClient.login(node(nodeIndex).gatewayUrl, {
    token: await stack.token(name, displayName),
  });
  clients.push(client);
  return client;
}

const sendText = (client: TestClient, channel: string, body: string, txnId?: string): Promise<Reply> =>
  client.request("chat.send", {
    channel,
    event_type: "channel.message",
    content: { type: "text", body },
    ...(txnId ? { txn_id: txnId } : {}),
  });

const messagesOf = (client: TestClient, channel: string) =>
  client.events(channel).filter((e) => e.event_type === "channel.message");

/** The bodies of a room's messages, oldest first, as the homeserver has them now. */
const roomBodies = (roomId: string): Promise<string[]> => carol.roomBodies(roomId);

/** Alice on node 1, Bob on node 2, Carol on Matrix, in one new channel. */
async function scene(name: string) {
  const channel = unique(name);
  const names = { alice: unique("alice"), bob: unique("bob") };
  const alice = await login(0, names.alice, "Alice");
  const bob = await login(1, names.bob, "Bob");
  const joined = await alice.ok("chat.join", { channel });
  await bob.ok("chat.join", { channel });
  const roomId = (joined.state as { room_id: string }).room_id;
  await carol.join(roomId);
  await bob.waitForEvent((e) => e.sender === carol.userId);
  return { channel, names, alice, bob, roomId };
}

const sorted = (xs: string[]) => [...xs].sort();

describe("a cluster of two nodes", () => {
  it("carries a conversation across nodes and Matrix, each message once", async () => {
    const { channel, alice, bob, roomId } = await scene("across");
    await alice.say(channel, "from node 1");
    await bob.waitForEvent((e) => bodyOf(e) === "from node 1");
    await bob.say(channel, "from node 2");
    await alice.waitForEvent((e) => bodyOf(e) === "from node 2");
    await carol.sendText(roomId, "from Matrix");
    await alice.waitForEvent((e) => bodyOf(e) === "from Matrix");
    await bob.waitForEvent((e) => bodyOf(e) === "from Matrix");
    await expect.poll(() => roomBodies(roomId), { timeout: 20_000 }).toHaveLength(3);
    expect(sorted(await roomBodies(roomId))).toEqual(sorted(["from node 1", "from node 2", "from Matrix"]));
    expect(messagesOf(alice, channel).map(bodyOf)).toEqual(messagesOf(bob, channel).map(bodyOf));
  });

  it("lets two nodes create one new channel at the same moment: one room, both joined", async () => {
    const channel = unique("race");
    const alice = await login(0, unique("alice"), "Alice");
    const bob = await login(1, unique("bob"), "Bob");
    const [a, b] = await Promise.all([alice.ok("chat.join", { channel }), bob.ok("chat.join", { channel })]);
    const roomOf = (snapshot: Record<string, unknown>) => (snapshot.state as { room_id: string }).room_id;
    expect(roomOf(a)).toBe(roomOf(b));
    const members = (await alice.ok("chat.members", { channel })) as unknown as { members: unknown[] };
    expect(members.members).toHaveLength(2);
  });

  it("gives concurrent posts on both nodes one gapless order, the same on both, and posts each to Matrix once", async () => {
    const { channel, alice, bob, roomId } = await scene("order");
    const first = (await alice.say(channel, "start")).event_id as number;
    const count = 30;
    await Promise.all([
      ...Array.from({ length: count }, (_, i) => alice.say(channel, `a${i}`)),
      ...Array.from({ length: count }, (_, i) => bob.say(channel, `b${i}`)),
    ]);
    const total = 2 * count + 1;
    const fromFirst = (client: TestClient) =>
      client
        .events(channel)
        .map((e) => e.event_id as number)
        .filter((id) => id >= first);
    await expect.poll(() => fromFirst(alice).length, { timeout: 15_000 }).toBeGreaterThanOrEqual(total);
    await expect.poll(() => fromFirst(bob).length, { timeout: 15_000 }).toBeGreaterThanOrEqual(total);
    expect(fromFirst(alice)).toEqual(fromFirst(bob));
    expect(fromFirst(alice)).toEqual(Array.from({ length: fromFirst(alice).length }, (_, i) => first + i));
    await expect.poll(async () => (await roomBodies(roomId)).length, { timeout: 30_000 }).toBe(total);
    expect(new Set(await roomBodies(roomId)).size).toBe(total);
  });

  it("shares typing, online state and slow mode", async () => {
    const { channel, names, alice, bob } = await scene("shared");
    await alice.ok("chat.typing", { channel, typing: true });
    const typing = await bob.waitFor(
      (f) => f[0] === "chat.typing" && (f[1] as { users: string[] }).users.length > 0,
      10_000,
      "typing from node 1",
    );
    expect((typing[1] as { users: string[] }).users).toEqual([`@chat_${names.alice}:localhost`]);
    const members = (await bob.ok("chat.members", { channel })) as unknown as { online: string[] };
    expect(members.online).toEqual(
      expect.arrayContaining([`@chat_${names.alice}:localhost`, `@chat_${names.bob}:localhost`]),
    );
    await alice.ok("chat.settings", { channel, slow_mode: 60 });
    await bob.say(channel, "one message a minute");
    const bobOnNode1 = await login(0, names.bob, "Bob");
    const refused = await sendText(bobOnNode1, channel, "and another, through node 1");
    expect(refused.ok ? "success" : refused.error.code).toBe("channel.slow_mode");
  });

  it("survives a Redis restart mid-stream: pushes resume and nothing is missed", async () => {
    const { channel, alice, bob } = await scene("redis");
    const sent: string[] = [];
    let running = true;
    const loop = (async () => {
      for (let i = 0; running && i < 400; i++) {
        const reply = await sendText(alice, channel, `r${i}`, `redis-${i}`);
        if (reply.ok) sent.push(`r${i}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    await expect.poll(() => sent.length, { timeout: 10_000 }).toBeGreaterThan(10);
    await stack.redis.restart();
    await expect.poll(() => sent.length, { timeout: 20_000 }).toBeGreaterThan(60);
    running = false;
    await loop;
    // Every acknowledged message reached Bob on the other node, once, in order.
    await expect
      .poll(() => messagesOf(bob, channel).map(bodyOf), { timeout: 20_000 })
      .toEqual(expect.arrayContaining(sent));
    const pushed = messagesOf(bob, channel).map(bodyOf);
    expect(pushed).toEqual(sent);
  }, 90_000);

  it("survives PostgreSQL dropping every connection mid-stream: what was acknowledged is there once", async () => {
    const { channel, alice, bob } = await scene("pgdrop");
    const acknowledged: string[] = [];
    let refused = 0;
    let running = true;
    const loop = (async () => {
      for (let i = 0; running && i < 400; i++) {
        const reply = await sendText(alice, channel, `p${i}`, `pg-${i}`);
        if (reply.ok) acknowledged.push(`p${i}`);
        else refused++;
        await new Promise((r) => setTimeout(r, 15));
      }
    })();
    await expect.poll(() => acknowledged.length, { timeout: 10_000 }).toBeGreaterThan(10);
    await stack.postgres.terminateConnections();
    const atDrop = acknowledged.length;
    await expect.poll(() => acknowledged.length, { timeout: 20_000 }).toBeGreaterThan(atDrop + 20);
    running = false;
    await loop;
    // A send caught by the drop may be refused (never acknowledged); nothing acknowledged is lost.
    expect(refused).toBeLessThan(5);
    const log = (await bob.fetchAll(channel, 0)).filter((e) => e.event_type === "channel.message");
    for (const body of acknowledged) expect(log.filter((e) => bodyOf(e) === body)).toHaveLength(1);
    await expect
      .poll(() => messagesOf(bob, channel).map(bodyOf), { timeout: 15_000 })
      .toEqual(expect.arrayContaining(acknowledged));
  }, 60_000);

  it("loses nothing when a node is SIGKILLed mid-stream: its client recovers on the survivor", async () => {
    const { channel, names, alice, bob, roomId } = await scene("kill");
    const acknowledged: string[] = [];
    let running = true;
    // Alice, on node 1, keeps posting the whole time.
    const aliceLoop = (async () => {
      for (let i = 0; running && i < 400; i++) {
        const reply = await sendText(alice, channel, `n1-${i}`, `n1-${i}`);
        if (reply.ok) acknowledged.push(`n1-${i}`);
        await new Promise((r) => setTimeout(r, 15));
      }
    })();
    // Bob, on node 2, posts until the node dies under him.
    const onNode2: string[] = [];
    const node2Loop = (async () => {
      for (let i = 0; i < 400; i++) {
        try {
          const reply = await sendText(bob, channel, `n2-${i}`, `n2-${i}`);
          if (reply.ok) onNode2.push(`n2-${i}`);
        } catch {
          return; // the connection died with the node
        }
      }
    })();
    await expect.poll(() => onNode2.length, { timeout: 15_000 }).toBeGreaterThan(20);
    const lastSeenByBob = Math.max(0, ...bob.events(channel).map((e) => e.event_id as number));
    await node(1).kill();
    await node2Loop;
    await new Promise((r) => setTimeout(r, 500));
    // Bob reconnects to the survivor and follows the recipe: subscribe, then fetch what he missed.
    const bobAgain = await login(0, names.bob, "Bob");
    await bobAgain.ok("chat.subscribe", { channel });
    const missed = await bobAgain.fetchAll(channel, lastSeenByBob);
    running = false;
    await aliceLoop;
    const all = [...bob.events(channel).filter((e) => (e.event_id as number) <= lastSeenByBob), ...missed];
    const ids = all.map((e) => e.event_id as number);
    expect(ids).toEqual([...new Set(ids)].sort((x, y) => x - y));
    const bodies = all.filter((e) => e.event_type === "channel.message").map(bodyOf);
    for (const body of [...onNode2, ...acknowledged.filter((b) => all.some((e) => bodyOf(e) === b))]) {
      expect(bodies.filter((b) => b === body)).toHaveLength(1);
    }
    // Everything node 2 acknowledged before it died is in the log, and reaches Matrix once, too:
    // its channels' outbox is taken over by node 1 once node 2's lease runs out.
    const log = (await bobAgain.fetchAll(channel, 0)).filter((e) => e.event_type === "channel.message");
    for (const body of [...onNode2, ...acknowledged]) {
      expect(log.filter((e) => bodyOf(e) === body)).toHaveLength(1);
    }
    await expect
      .poll(async () => sorted(await roomBodies(roomId)), { timeout: 60_000, interval: 1_000 })
      .toEqual(sorted(log.map((e) => bodyOf(e) as string)));
    await node(1).start();
  }, 150_000);

  it("/ready names the bus while Redis is away, and is 200 again once it is back", async () => {
    const ready = async () => {
      const response = await fetch(
        `${node(0)
          .gatewayUrl.replace(/^ws/, "http")
          .replace(/\/chat$/, "")}/ready`,
      );
      return { status: response.status, body: await response.json() };
    };
    expect(await ready()).toEqual({ status: 200, body: { status: "ready" } });
    await stack.redis.kill();
    try {
      await expect
        .poll(ready, { timeout: 10_000 })
        .toEqual({ status: 503, body: { status: "unready", failed: ["bus"] } });
    } finally {
      await stack.redis.start();
    }
    await expect.poll(ready, { timeout: 20_000 }).toEqual({ status: 200, body: { status: "ready" } });
  }, 60_000);
});
