// Two native clients and one ordinary Matrix user (registered the way Element registers) in one
// channel: everyone sees everyone's messages, joins and leaves, with the right display names.
import { afterAll, beforeAll, expect, it } from "vitest";
import { TestClient } from "../support/client.ts";
import { MatrixUser } from "../support/matrix-user.ts";
import { startTestParley, type TestParley, unique } from "../support/parley.ts";

let parley: TestParley;
let carol: MatrixUser;
const clients: TestClient[] = [];

beforeAll(async () => {
  parley = await startTestParley();
  carol = await MatrixUser.register(parley.env.homeserverUrl, unique("carol"), "Carol from Element");
});
afterAll(async () => {
  for (const c of clients) c.close();
  carol?.stop();
  await parley?.stop();
});

const login = async (name: string, displayName: string) => {
  const client = await TestClient.login(parley.url(), {
    token: await parley.token(unique(name), displayName),
  });
  clients.push(client);
  return client;
};

const isMember = (membership: string, displayName: string) => (e: Record<string, unknown>) =>
  e.event_type === "channel.member" &&
  (e.content as { membership: string }).membership === membership &&
  (e.content as { user: { profile: { display_name: string } } }).user.profile.display_name === displayName;

const isMessage = (body: string) => (e: Record<string, unknown>) =>
  e.event_type === "channel.message" && (e.content as { body: string }).body === body;

it("native clients and a Matrix user see each other's messages, joins and leaves", async () => {
  const channel = unique("live");
  const alias = `#chat_${channel}:localhost`;
  const alice = await login("alice", "Alice");
  const bob = await login("bob", "Bob");

  const joined = await alice.ok("chat.join", { channel });
  const roomId = (joined.state as { room_id: string }).room_id;
  await bob.ok("chat.join", { channel });
  // Their puppets' joins reach the room through the outbox, right after.
  await parley.mirrored();

  // The Matrix user joins by alias and sees the native users as room members with their names.
  expect(await carol.join(alias)).toBe(roomId);
  const members = await carol.client.getJoinedRoomMembersWithProfiles(roomId);
  expect(Object.values(members).map((m) => m.display_name)).toEqual(
    expect.arrayContaining(["Alice", "Bob", "Carol from Element"]),
  );

  // Native clients see the Matrix user's join with her display name.
  const carolJoin = await alice.waitForEvent(isMember("join", "Carol from Element"));
  expect(carolJoin.sender).toBe(carol.userId);
  expect((carolJoin.content as { user: { id: string } }).user.id).toBe(carol.userId);
  await bob.waitForEvent(isMember("join", "Carol from Element"));

  // Native -> everyone.
  await alice.ok("chat.send", {
    channel,
    event_type: "channel.message",
    content: { type: "text", body: "hi from alice" },
  });
  await bob.waitForEvent(isMessage("hi from alice"));
  const seenByCarol = await carol.waitForEvent(
    (r) =>
      r.roomId === roomId && r.event.type === "m.room.message" && r.event.content.body === "hi from alice",
  );
  expect(seenByCarol.event.sender).toBe((joined.members as Array<{ id: string }>)[0]?.id);

  // Matrix -> native, with her id as sender.
  await carol.sendText(roomId, "hi from element");
  const atAlice = await alice.waitForEvent(isMessage("hi from element"));
  const atBob = await bob.waitForEvent(isMessage("hi from element"));
  expect(atAlice).toEqual(atBob);
  expect(atAlice.sender).toBe(carol.userId);

  // Bob's message reaches Carol and Alice.
  await bob.ok("chat.send", {
    channel,
    event_type: "channel.message",
    content: { type: "text", body: "bob here" },
  });
  await alice.waitForEvent(isMessage("bob here"));
  await carol.waitForEvent((r) => r.event.type === "m.room.message" && r.event.content.body === "bob here");

  // Leaves, both ways.
  await carol.leave(roomId);
  await alice.waitForEvent(isMember("leave", "Carol from Element"));
  await bob.ok("chat.leave", { channel });
  await alice.waitForEvent(isMember("leave", "Bob"));
  await carol.join(roomId);
  await alice.waitForEvent(
    (e) =>
      isMember("join", "Carol from Element")(e) && (e.event_id as number) > (carolJoin.event_id as number),
  );

  // Everyone who was subscribed saw the same events, with increasing event_ids.
  const ids = alice.events(channel).map((e) => e.event_id as number);
  expect(ids).toEqual([...ids].sort((a, b) => a - b));
  expect(new Set(ids).size).toBe(ids.length);
  await bob.waitForEvent((e) => e.event_id === ids.at(-1));
  const bobIds = bob.events(channel).map((e) => e.event_id as number);
  // Bob subscribed after Alice's join and stayed subscribed after leaving: he saw the rest, the same.
  expect(bobIds).toEqual(ids.filter((id) => id >= (bobIds[0] ?? 0)));
  expect(bobIds.length).toBeGreaterThanOrEqual(7);

  // The member list now has Alice and Carol, with their names.
  const snapshot = await alice.ok("chat.subscribe", { channel });
  const names = (snapshot.members as Array<{ profile: { display_name: string } }>).map(
    (m) => m.profile.display_name,
  );
  expect(names.sort()).toEqual(["Alice", "Carol from Element"]);
});

it("a Matrix user who joins the alias first creates the channel", async () => {
  const channel = unique("fresh");
  const dave = await MatrixUser.register(parley.env.homeserverUrl, unique("dave"), "Dave");
  try {
    const roomId = await dave.join(`#chat_${channel}:localhost`);
    const alice = await login("alice", "Alice");
    const joined = await alice.ok("chat.join", { channel });
    expect((joined.state as { room_id: string }).room_id).toBe(roomId);
    // Dave's join reaches Parley through Synapse's transactions, perhaps just after Alice's.
    await expect
      .poll(async () =>
        (
          (await alice.ok("chat.members", { channel })).members as Array<{
            profile: { display_name: string };
          }>
        )
          .map((m) => m.profile.display_name)
          .sort(),
      )
      .toEqual(["Alice", "Dave"]);
    await dave.sendText(roomId, "first!");
    await alice.waitForEvent(isMessage("first!"));
  } finally {
    dave.stop();
  }
});

it("a display name change reaches the other connections and Matrix", async () => {
  const name = unique("erin");
  const token = await parley.token(name, "Erin");
  const first = await TestClient.login(parley.url(), { token });
  const second = await TestClient.login(parley.url(), { token });
  clients.push(first, second);
  const channel = unique("names");
  const joined = await first.ok("chat.join", { channel });
  const roomId = (joined.state as { room_id: string }).room_id;
  await carol.join(roomId);

  await first.ok("user.update", { profile: { display_name: "Erin the DJ" } });
  const pushed = await second.waitFor((f) => f[0] === "user.updated");
  expect(pushed[1]).toEqual({
    id: `@chat_${name}:localhost`,
    profile: { display_name: "Erin the DJ", avatar_url: null },
  });
  expect(first.received.some((f) => f[0] === "user.updated")).toBe(false);
  const fetched = await second.ok("user.fetch", { id: `@chat_${name}:localhost` });
  expect(fetched.profile).toEqual({ display_name: "Erin the DJ", avatar_url: null });
  // Synapse rewrites the puppet's member event in every room it is in.
  await carol.waitForEvent(
    (r) =>
      r.roomId === roomId &&
      r.event.type === "m.room.member" &&
      r.event.content.displayname === "Erin the DJ",
  );
  // A Matrix user can be fetched too.
  const carolView = await first.ok("user.fetch", { ids: [carol.userId, "@nobody_here:localhost"] });
  expect(Object.keys(carolView)).toEqual([carol.userId]);
});
