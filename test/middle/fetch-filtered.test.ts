// chat.fetch when a whole page is hidden from the reader (a user they ignore posted it): the
// fetch looks further back instead of answering empty, so an empty page still means the start.
import { afterAll, beforeAll, expect, it } from "vitest";
import { type Middle, puppet, startMiddle } from "../support/middle.ts";
import { unique } from "../support/parley.ts";

let m: Middle;
beforeAll(async () => {
  m = await startMiddle();
});
afterAll(async () => {
  await m?.stop();
});

const text = (channel: string, body: string) => ({
  channel,
  event_type: "channel.message",
  content: { type: "text", body },
});

it("skips past pages the reader hears nothing of, backwards and forwards", async () => {
  const channel = unique("noisy");
  const names = { owner: unique("owner"), spammer: unique("spammer"), reader: unique("reader") };
  const owner = await m.login(names.owner, "Owner");
  const spammer = await m.login(names.spammer, "Spammer");
  const reader = await m.login(names.reader, "Reader");
  for (const client of [owner, spammer, reader]) await client.ok("chat.join", { channel });
  const early = (await owner.ok("chat.send", text(channel, "said before the noise"))).event as {
    event_id: number;
  };
  for (let i = 0; i < 120; i++) await spammer.ok("chat.send", text(channel, `noise ${i}`));
  const late = (await owner.ok("chat.send", text(channel, "said after the noise"))).event as {
    event_id: number;
  };
  await reader.ok("user.ignore", { id: puppet(names.spammer) });

  const bodies = (page: Record<string, unknown>) =>
    (page.results as Array<{ content: { body?: string } }>).map((e) => e.content.body).filter(Boolean);
  // Back from just below the last message: 120 hidden ones, then what the reader hears.
  const back = await reader.ok("chat.fetch", { channel, count: 50, before_id: late.event_id });
  expect(bodies(back)).toEqual(["said before the noise"]);
  // Forward from the first: the same, the other way.
  const forward = await reader.ok("chat.fetch", { channel, count: 50, after_id: early.event_id });
  expect(bodies(forward)).toEqual(["said after the noise"]);
  // And the start is still an empty page.
  const start = await reader.ok("chat.fetch", { channel, count: 50, before_id: 1 });
  expect(start.results).toEqual([]);
});
