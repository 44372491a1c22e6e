// Seed 004's messages to chosen recipients (chat.send with "to"): only they, the sender and the
// channel's moderators get them, live and in fetch; Matrix never sees them.
import { expect, it } from "vitest";
import { chatFixture } from "../support/fixture.ts";
import { unique } from "../support/parley.ts";

const fixture = chatFixture();

const bodyIs = (body: string) => (e: Record<string, unknown>) =>
  (e.content as { body?: string }).body === body;

it("a message to chosen recipients reaches only them and moderators, in fetch too, never Matrix", async () => {
  const channel = unique("backstage");
  const names = {
    owner: unique("owner"),
    bob: unique("bob"),
    dave: unique("dave"),
    sender: unique("sender"),
  };
  const id = (name: string) => `@chat_${name}:localhost`;
  const owner = await fixture.login(names.owner, "Owner");
  const joined = await owner.ok("chat.join", { channel });
  const bob = await fixture.login(names.bob, "Bob");
  const dave = await fixture.login(names.dave, "Dave");
  const sender = await fixture.login(names.sender, "Sender");
  for (const client of [bob, dave, sender]) await client.ok("chat.join", { channel });
  await fixture.parley.mirrored();
  const roomId = (joined.state as { room_id: string }).room_id;
  await fixture.carol.join(roomId);

  const sent = await sender.ok("chat.send", {
    channel,
    event_type: "channel.message",
    content: { type: "text", body: "the code is 1234" },
    to: [id(names.bob)],
  });
  expect(sent.event).toMatchObject({
    to: [id(names.bob)],
    content: { type: "text", body: "the code is 1234" },
  });
  await bob.waitForEvent(bodyIs("the code is 1234"));
  await owner.waitForEvent(bodyIs("the code is 1234"));
  // Something everyone hears afterwards: by then Dave would have had the private one too.
  await sender.ok("chat.send", {
    channel,
    event_type: "channel.message",
    content: { type: "text", body: "hello all" },
  });
  await dave.waitForEvent(bodyIs("hello all"));
  await fixture.carol.waitForEvent((r) => r.roomId === roomId && r.event.content.body === "hello all");
  expect(
    dave.received.some(
      (f) => f[0] === "chat.event" && bodyIs("the code is 1234")(f[1] as Record<string, unknown>),
    ),
  ).toBe(false);
  expect(fixture.carol.messages(roomId)).not.toContain("the code is 1234");

  const fetchedBy = async (client: typeof dave) =>
    ((await client.ok("chat.fetch", { channel, count: 50 })).results as Array<Record<string, unknown>>)
      .filter((e) => e.event_type === "channel.message")
      .map((e) => (e.content as { body: string }).body);
  expect(await fetchedBy(dave)).not.toContain("the code is 1234");
  expect(await fetchedBy(bob)).toContain("the code is 1234");
  expect(
    await bob.errorCode("chat.react", {
      channel,
      event: (sent.event as { event_id: number }).event_id,
      reaction: "👍",
    }),
  ).toBe("chat.denied");

  // Someone it was not for cannot learn it exists: replying to it or deleting it gets the answer
  // a missing message gets.
  const privateId = (sent.event as { event_id: number }).event_id;
  const message = (extra: Record<string, unknown>) => ({
    channel,
    event_type: "channel.message",
    content: { type: "text", body: "what is that?" },
    ...extra,
  });
  expect(await dave.errorCode("chat.send", message({ reply_to: privateId }))).toBe("chat.unknown_event");
  expect(await dave.errorCode("chat.react", { channel, event: privateId, reaction: "👍" })).toBe(
    "chat.unknown_event",
  );
  expect(
    await dave.errorCode("chat.send", { ...message({ replaces: privateId }), content: { type: "deleted" } }),
  ).toBe("chat.unknown_event");
  await bob.ok("chat.send", message({ reply_to: privateId, to: [id(names.sender)] }));

  // Deleted, it stays theirs: the others' history has no trace of it, not even a stub.
  await sender.ok("chat.send", { ...message({ replaces: privateId }), content: { type: "deleted" } });
  const idsFetchedBy = async (client: typeof dave) =>
    ((await client.ok("chat.fetch", { channel, count: 50 })).results as Array<{ event_id: number }>).map(
      (e) => e.event_id,
    );
  expect(await idsFetchedBy(dave)).not.toContain(privateId);
  expect(await idsFetchedBy(bob)).toContain(privateId);
});
