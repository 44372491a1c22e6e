// Reconnect storm: 1,000 native clients subscribed to a channel drop off, 200 messages are sent
// meanwhile, then all of them come back at the same moment and recover the gap the way the protocol
// says: connect, authenticate, chat.subscribe, chat.fetch {after_id: last seen}.
import { signToken } from "../src/auth/jwt.ts";
import { TestClient } from "../test/support/client.ts";
import { connectNative, onCleanup, progress, type Stack, withTimeout } from "./stack.ts";

export const CLIENTS = 1_000;
export const MISSED = 200;
const SETUP_BATCH = 100;
const CHANNEL = "bench_reconnect";
/** The whole storm must be over by then (it takes a few seconds). */
const STORM_TIMEOUT_MS = 120_000;
const CLOSE_TIMEOUT_MS = 10_000;
const STEP_TIMEOUT_MS = 30_000;

export interface ReconnectResult {
  /** ms to connect, authenticate and subscribe all clients the first time, in batches. */
  readonly setupMs: number;
  /** ms from the first reconnect until every client has its gap. */
  readonly wallMs: number;
  /** Per client, from its connect start to its chat.fetch reply. */
  readonly recovery: Recovery[];
}

interface Member {
  readonly token: string;
  lastSeen: number;
}

const open = new Set<TestClient>();

async function closeAll(clients: TestClient[]): Promise<void> {
  for (const client of clients) client.close();
  await withTimeout(
    Promise.all(clients.map((client) => client.closed)),
    CLOSE_TIMEOUT_MS,
    `${clients.length} sockets to close`,
  );
  for (const client of clients) open.delete(client);
}

async function connect(stack: Stack, token: string): Promise<TestClient> {
  const client = await connectNative(stack.gatewayUrl, token);
  open.add(client);
  return client;
}

/** Connects, authenticates and subscribes; returns the client and the channel's next_event_id. */
async function subscribe(stack: Stack, token: string): Promise<{ client: TestClient; next: number }> {
  const client = await connect(stack, token);
  const reply = await client.ok("chat.subscribe", { channel: CHANNEL });
  return { client, next: reply.next_event_id as number };
}

/** What one client's recovery took, in ms: in all, and each step. */
export interface Recovery {
  readonly total: number;
  readonly connect: number;
  readonly authenticate: number;
  readonly subscribe: number;
  readonly fetch: number;
}

/** Recovers the gap after `member.lastSeen`, timing each step from connect start to the fetch reply. */
async function recover(stack: Stack, member: Member, bodies: readonly string[]): Promise<Recovery> {
  const t0 = performance.now();
  const client = await withTimeout(TestClient.connect(stack.gatewayUrl), STEP_TIMEOUT_MS, "a WebSocket");
  open.add(client);
  const t1 = performance.now();
  const auth = await client.authenticate({ token: member.token });
  if (auth[0] !== "authenticated") throw new Error(`authenticate failed: ${JSON.stringify(auth)}`);
  const t2 = performance.now();
  await client.ok("chat.subscribe", { channel: CHANNEL });
  const t3 = performance.now();
  const page = await client.ok("chat.fetch", { channel: CHANNEL, after_id: member.lastSeen, count: MISSED });
  const t4 = performance.now();
  const events = page.results as Array<{ event_id: number; event_type: string; content: { body?: string } }>;
  const wrong =
    events.length !== MISSED ||
    events.some(
      (e, i) =>
        e.event_id !== member.lastSeen + 1 + i ||
        e.event_type !== "channel.message" ||
        e.content.body !== bodies[i],
    );
  if (wrong) {
    const ids = events.map((e) => e.event_id);
    throw new Error(
      `after_id ${member.lastSeen} gave ${events.length} events (ids ${ids.slice(0, 3).join(",")}...` +
        `${ids.slice(-3).join(",")}); expected the ${MISSED} messages ${member.lastSeen + 1}..` +
        `${member.lastSeen + MISSED}`,
    );
  }
  return { total: t4 - t0, connect: t1 - t0, authenticate: t2 - t1, subscribe: t3 - t2, fetch: t4 - t3 };
}

export async function reconnectBench(stack: Stack): Promise<ReconnectResult> {
  onCleanup("close the reconnect clients", () => {
    for (const client of open) client.close();
  });
  // The sender joins first, so its join event is not part of anyone's gap.
  const sender = await stack.login("bench_rs", "Bench Sender");
  await sender.ok("chat.join", { channel: CHANNEL });

  const members: Member[] = [];
  for (let i = 0; i < CLIENTS; i++) {
    members.push({
      token: await signToken(stack.jwtSecret, { sub: `bench_r${i}`, name: `Bench R${i}` }),
      lastSeen: 0,
    });
  }
  const setupStart = performance.now();
  for (let start = 0; start < CLIENTS; start += SETUP_BATCH) {
    const batch = members.slice(start, start + SETUP_BATCH);
    const subscribed = await Promise.all(batch.map((m) => subscribe(stack, m.token)));
    subscribed.forEach(({ next }, i) => {
      (batch[i] as Member).lastSeen = next - 1;
    });
    await closeAll(subscribed.map((s) => s.client));
  }
  const setupMs = performance.now() - setupStart;
  progress(`${CLIENTS} clients subscribed and disconnected in ${(setupMs / 1000).toFixed(1)} s`);
  const lastSeen = new Set(members.map((m) => m.lastSeen));
  if (lastSeen.size !== 1) throw new Error(`the clients saw different next_event_ids: ${[...lastSeen]}`);

  const bodies: string[] = [];
  for (let i = 0; i < MISSED; i++) {
    const body = `missed message ${i + 1} of ${MISSED}`;
    bodies.push(body);
    await sender.ok("chat.send", {
      channel: CHANNEL,
      event_type: "channel.message",
      content: { type: "text", body },
    });
  }
  progress(`sent ${MISSED} messages; ${CLIENTS} clients reconnect at once`);

  const wallStart = performance.now();
  const recovery = await withTimeout(
    Promise.all(members.map((m) => recover(stack, m, bodies))),
    STORM_TIMEOUT_MS,
    `${CLIENTS} clients to recover`,
  );
  const wallMs = performance.now() - wallStart;
  progress(`all ${CLIENTS} recovered in ${(wallMs / 1000).toFixed(2)} s`);
  await closeAll([...open]);
  return { setupMs, wallMs, recovery };
}
