// The client SDK (packages/client) in Node against a real Parley and Synapse: typed requests,
// events from native and Matrix users, and a Parley restart in the middle of a conversation that
// the application does not notice except for seeing every event exactly once, in order.
import { afterAll, beforeAll, expect, it } from "vitest";
import { type ChatEvent, ParleyClient, ParleyError } from "../../packages/client/src/index.ts";
import { MatrixUser } from "../support/matrix-user.ts";
import { startTestParley, type TestParley, unique } from "../support/parley.ts";
import { freePort } from "../support/synapse.ts";

const bodyOfEvent = (e: ChatEvent): string | undefined =>
  e.event_type === "channel.message" && "body" in e.content ? e.content.body : undefined;

let parley: TestParley;
let carol: MatrixUser;
const clients: ParleyClient[] = [];

beforeAll(async () => {
  parley = await startTestParley({ gatewayPort: await freePort() });
  carol = await MatrixUser.register(parley.env.homeserverUrl, unique("carol"), "Carol");
});
afterAll(async () => {
  for (const c of clients) c.close();
  carol?.stop();
  await parley?.stop();
});

const newClient = (name: string, displayName: string) => {
  const client = new ParleyClient({
    url: parley.url(),
    token: () => parley.token(name, displayName),
    backoff: { initialDelayMs: 200, maxDelayMs: 1_000 },
  });
  clients.push(client);
  return client;
};

it("speaks the protocol with typed calls and protocol error codes", async () => {
  const alice = newClient(unique("alice"), "Alice");
  const auth = await alice.connect();
  expect(auth.user.profile.display_name).toBe("Alice");
  const channel = alice.channel(unique("sdk"));
  const joined = await channel.join();
  expect(joined.state.role).toBe("owner");
  const sent = await channel.sendText("hello from the sdk");
  expect(sent).toMatchObject({
    event_type: "channel.message",
    content: { type: "text", body: "hello from the sdk" },
  });
  const page = await channel.fetch({ count: 10 });
  expect(page.results.at(-1)).toEqual(sent);
  const error = await alice
    .channel("has space")
    .join()
    .catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ParleyError);
  expect((error as ParleyError).code).toBe("protocol.invalid_payload");
  const denied = await alice
    .request("chat.kick", { channel: unique("nowhere"), user: "@x:localhost" })
    .catch((e: unknown) => e);
  expect((denied as ParleyError).code).toBe("chat.unknown");
});

it("recovers across a Parley restart: every event once, in order, Matrix users' included", async () => {
  const name = unique("room");
  const alice = newClient(unique("alice"), "Alice");
  const bob = newClient(unique("bob"), "Bob");
  await alice.connect();
  await bob.connect();
  const seen: ChatEvent[] = [];
  const aliceChannel = alice.channel(name);
  aliceChannel.on("event", (event) => seen.push(event));
  const joined = await aliceChannel.join();
  const bobChannel = bob.channel(name);
  await bobChannel.join();
  await carol.join(joined.state.room_id);
  await bobChannel.sendText("before the restart");
  await expect.poll(() => seen.some((e) => bodyOfEvent(e) === "before the restart")).toBe(true);

  const reconnected = new Promise<void>((resolve) => alice.on("connected", () => resolve()));
  await parley.stop();
  // While Parley is down, Carol keeps talking in Element.
  await carol.sendText(joined.state.room_id, "while parley was down");
  await parley.restart();
  await reconnected;
  await expect.poll(() => bob.connected, { timeout: 15_000 }).toBe(true);
  // Synapse hands over what it held once it sees Parley again; a native message sent before that
  // is rightly logged first, so wait for it: this test is about recovery, not that race.
  await expect
    .poll(() => seen.some((e) => bodyOfEvent(e) === "while parley was down"), { timeout: 15_000 })
    .toBe(true);
  await bobChannel.sendText("after the restart");
  await carol.sendText(joined.state.room_id, "carol after");

  await expect
    .poll(() => seen.map(bodyOfEvent).filter(Boolean), { timeout: 15_000 })
    .toEqual(["before the restart", "while parley was down", "after the restart", "carol after"]);
  const ids = seen.map((e) => e.event_id);
  expect(ids).toEqual([...new Set(ids)].sort((a, b) => a - b));
  // Exactly the log, from the first event Alice was there for.
  const log = (await aliceChannel.fetch({ count: 200, after_id: (ids[0] as number) - 1 })).results;
  expect(seen).toEqual(log.map(({ reactions: _r, edited: _e, ...event }) => event));
});

it("has typed moderation calls whose refusals carry the protocol codes", async () => {
  const ownerClient = newClient(unique("owner"), "Owner");
  const fanName = unique("fan");
  const fanClient = newClient(fanName, "Fan");
  await ownerClient.connect();
  await fanClient.connect();
  const name = unique("modsdk");
  const owned = ownerClient.channel(name);
  await owned.join();
  const fanSide = fanClient.channel(name);
  await fanSide.join();
  const fanId = `@chat_${fanName}:localhost`;

  const notices: Array<Record<string, unknown>> = [];
  fanSide.on("moderation", (notice) => notices.push(notice));
  let connections = 0;
  ownerClient.on("connected", () => connections++);
  await ownerClient.connect(); // connecting twice is harmless: no second login
  expect(connections).toBe(0);
  const denied = await fanSide.kick(ownerClient.user?.id ?? "").catch((e: unknown) => e);
  expect((denied as ParleyError).code).toBe("chat.denied");

  const { until, karma } = await owned.timeout(fanId, 120, "cool down");
  expect(karma).toBe(-1);
  expect(until).toBeGreaterThan(Date.now());
  await expect.poll(() => notices.map((n) => n.action)).toContain("timeout");
  const refused = await fanSide.sendText("hey").catch((e: unknown) => e);
  expect((refused as ParleyError).code).toBe("channel.timed_out");
  expect((refused as ParleyError).details.until).toBe(until);
  await owned.untimeout(fanId);
  await fanSide.sendText("thanks");

  expect(await owned.setRole(fanId, "moderator")).toEqual({ channels: [name] });
  await owned.settings({ slow_mode: 5, rules: "Be nice" });
  expect((await fanSide.subscribe()).state).toMatchObject({ role: "moderator", rules: "Be nice" });
  const users = await ownerClient.fetchUsers([fanId, "@nobody:localhost"]);
  expect(Object.keys(users)).toEqual([fanId]);
  const mods = await owned.moderatorsChannel();
  expect(mods.name).toBe(`${name}.mods`);
});

it("opens direct channels and sets personal controls", async () => {
  const aName = unique("a");
  const bName = unique("b");
  const a = newClient(aName, "A");
  const b = newClient(bName, "B");
  await a.connect();
  await b.connect();
  const bId = `@chat_${bName}:localhost`;
  const dm = await a.directChannel([bId]);
  expect(dm.name).toMatch(/^dm\./);
  const heard: string[] = [];
  const atB = await b.directChannel([`@chat_${aName}:localhost`]);
  expect(atB.name).toBe(dm.name);
  atB.on("message", (event) => heard.push(String(bodyOfEvent(event))));
  await dm.sendText("psst");
  await expect.poll(() => heard).toEqual(["psst"]);
  await b.setRelation("user.block", `@chat_${aName}:localhost`);
  expect(await b.blockedUsers()).toEqual([`@chat_${aName}:localhost`]);
  const refused = await dm.sendText("still there?").catch((e: unknown) => e);
  expect((refused as ParleyError).code).toBe("chat.denied");
});
