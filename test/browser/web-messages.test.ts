// The web page's messages against the real stack: a page, a native SDK client and an ordinary
// Matrix user in one channel — times, groups, replies, edits (Up arrow), deletes, reactions with
// who reacted, emotes, mentions, typing, presence, and history scrolled back without duplicates.

import type { Browser } from "playwright-core";
import sharp from "sharp";
import { afterAll, beforeAll, expect, it } from "vitest";
import { ParleyClient } from "../../packages/client/src/index.ts";
import { launchBrowser } from "../support/browser.ts";
import { MatrixUser } from "../support/matrix-user.ts";
import { startTestParley, type TestParley, unique } from "../support/parley.ts";
import { freePort } from "../support/synapse.ts";
import { log, message, openAs, say, waitForChannel } from "../support/web-page.ts";

let parley: TestParley;
let browser: Browser;
let carol: MatrixUser;
const clients: ParleyClient[] = [];

beforeAll(async () => {
  parley = await startTestParley({ gatewayPort: await freePort() });
  browser = await launchBrowser();
  carol = await MatrixUser.register(parley.env.homeserverUrl, unique("carol"), "Carol");
});
afterAll(async () => {
  for (const client of clients) client.close();
  carol?.stop();
  await browser?.close();
  await parley?.stop();
});

function sdkUser(name: string, displayName: string): ParleyClient {
  const client = new ParleyClient({ url: parley.url(), token: () => parley.token(name, displayName) });
  clients.push(client);
  return client;
}

it("shows a conversation with a native client and a Matrix user, and every message action works", async () => {
  const channelName = unique("talk");
  const olive = await openAs(browser, parley, unique("olive"), "Olive", `?channel=${channelName}`);
  await waitForChannel(olive, channelName);
  expect(await olive.locator("#status").textContent()).toContain("Olive");

  const sam = sdkUser(unique("sam"), "Sam");
  const samAuth = await sam.connect();
  const samChannel = sam.channel(channelName);
  await samChannel.join();
  const received: Array<{ event_id: number; content: unknown; replaces?: number; reply_to?: number }> = [];
  samChannel.on("message", (event) => received.push(event));
  const reactions: Array<Record<string, readonly string[]>> = [];
  samChannel.on("reaction", (change) => reactions.push(change.reactions));
  await log(olive).getByText("Sam joined").waitFor();

  // Times and groups: two messages from Sam in a row are one group.
  const first = await samChannel.sendText("first from sam");
  await samChannel.sendText("second from sam");
  await message(olive, "second from sam").waitFor();
  await expect(message(olive, "first from sam").locator("time").textContent()).resolves.toMatch(/\d/);
  await expect(message(olive, "first from sam").locator(".sender").textContent()).resolves.toBe("Sam");
  expect(await message(olive, "second from sam").getAttribute("class")).toContain("continued");

  // A Matrix user in the same room, with her profile picture.
  const picture = await sharp({ create: { width: 48, height: 48, channels: 3, background: "#7a3" } })
    .png()
    .toBuffer();
  await carol.client.setAvatarUrl(await carol.client.uploadContent(picture, "image/png", "carol.png"));
  const roomId = await carol.join(`#chat_${channelName}:localhost`);
  await log(olive).getByText("Carol joined").waitFor();
  await carol.sendText(roomId, "hello from element");
  await message(olive, "hello from element").waitFor();
  const avatar = message(olive, "hello from element").locator("img.avatar");
  expect(await avatar.getAttribute("src")).toMatch(/^\/media\/localhost\//);
  await expect
    .poll(() =>
      avatar.evaluate((img) => {
        const loaded = img as unknown as { complete: boolean; naturalWidth: number };
        return loaded.complete ? loaded.naturalWidth : 0;
      }),
    )
    .toBe(48);

  // Reply (quoted), by keyboard: focus the message's Reply button and press Enter.
  const reply = message(olive, "first from sam").getByRole("button", { name: "Reply" });
  await reply.focus();
  await reply.press("Enter");
  await say(olive, "replying to sam");
  await expect
    .poll(() => received.find((event) => JSON.stringify(event.content).includes("replying to sam"))?.reply_to)
    .toBe(first.event_id);
  await expect(message(olive, "replying to sam").locator(".quote").textContent()).resolves.toContain(
    "Sam: first from sam",
  );
  await carol.waitForEvent(
    (r) => r.roomId === roomId && String(r.event.content.body ?? "").includes("replying to sam"),
  );

  // Up arrow edits one's last message.
  const input = olive.getByRole("textbox", { name: "Message" });
  await input.focus();
  await input.press("ArrowUp");
  expect(await input.inputValue()).toBe("replying to sam");
  await input.fill("replying to sam, edited");
  await input.press("Enter");
  await expect
    .poll(() =>
      received.some(
        (event) => event.replaces !== undefined && JSON.stringify(event.content).includes("edited"),
      ),
    )
    .toBe(true);
  await message(olive, "replying to sam, edited").getByText("(edited)").waitFor();
  await carol.waitForEvent(
    (r) =>
      r.roomId === roomId &&
      (r.event.content["m.new_content"] as { body?: string } | undefined)?.body === "replying to sam, edited",
  );

  // Reactions: the page adds one; Sam's shows with who reacted; a click adds ours to it.
  await message(olive, "second from sam").getByRole("button", { name: "React", exact: true }).click();
  await olive.getByRole("button", { name: "React with 👍" }).click();
  await expect.poll(() => reactions.at(-1)?.["👍"]?.length).toBe(1);
  await samChannel.react(first.event_id, "🎉");
  const party = message(olive, "first from sam").getByRole("button", { name: /^🎉 1/ });
  await party.waitFor();
  expect(await party.getAttribute("title")).toContain("Sam");
  await party.click();
  await message(olive, "first from sam").getByRole("button", { name: /^🎉 2/ }).waitFor();
  expect(
    await message(olive, "first from sam")
      .getByRole("button", { name: /^🎉 2/ })
      .getAttribute("aria-pressed"),
  ).toBe("true");
  await carol.waitForEvent(
    (r) =>
      r.roomId === roomId &&
      r.event.type === "m.reaction" &&
      (r.event.content["m.relates_to"] as { key?: string }).key === "🎉",
  );
  // A second click takes ours back.
  await message(olive, "first from sam").getByRole("button", { name: /^🎉 2/ }).click();
  await message(olive, "first from sam").getByRole("button", { name: /^🎉 1/ }).waitFor();
  await expect.poll(() => reactions.at(-1)?.["🎉"]?.length).toBe(1);

  // Emote and a mention of the page's user.
  const oliveUserId = (await samChannel.members()).members.find(
    (member) => member.profile.display_name === "Olive",
  )?.id;
  expect(oliveUserId).toBeDefined();
  await samChannel.send({ type: "emote", body: "waves" });
  await message(olive, "* Sam waves").waitFor();
  await samChannel.sendText(`look here ${oliveUserId}`);
  const mention = message(olive, "look here");
  await mention.getByText("@Olive").waitFor();
  expect(await mention.getAttribute("class")).toContain("mentions-me");

  // Mentioning by name: "@Sa" offers Sam, Enter puts his id in, and the message mentions him.
  const composer = olive.getByRole("textbox", { name: "Message" });
  await composer.pressSequentially("thanks @Sa");
  await olive
    .getByRole("listbox", { name: "People to mention" })
    .getByRole("option", { name: /^Sam/ })
    .waitFor();
  await composer.press("Enter");
  expect(await composer.inputValue()).toBe(`thanks ${samAuth.user.id} `);
  await composer.press("Enter");
  await expect
    .poll(() => received.some((event) => JSON.stringify(event.content).includes(`thanks ${samAuth.user.id}`)))
    .toBe(true);
  await message(olive, "thanks").getByText("@Sam").waitFor();

  // Delete one's own message.
  await say(olive, "a line to take back");
  olive.once("dialog", (dialog) => void dialog.accept());
  await message(olive, "a line to take back").getByRole("button", { name: "Delete" }).click();
  await expect
    .poll(() => received.some((event) => (event.content as { type?: string }).type === "deleted"))
    .toBe(true);
  await log(olive).getByText("Message deleted").waitFor();

  // An emote from the page, with the slash command people know.
  await say(olive, "/me cheers");
  await expect
    .poll(() => received.find((event) => JSON.stringify(event.content).includes("cheers"))?.content)
    .toEqual({ type: "emote", body: "cheers" });
  await message(olive, "* Olive cheers").waitFor();

  // A picture of her own, from the sidebar: the others get it with her profile.
  await olive
    .getByLabel("Picture")
    .setInputFiles({ name: "olive.png", mimeType: "image/png", buffer: picture });
  await expect
    .poll(
      async () => (await samChannel.members()).members.find((m) => m.id === oliveUserId)?.profile.avatar_url,
    )
    .toMatch(/^mxc:\/\/localhost\//);
  await message(olive, "* Olive cheers").locator("img.avatar").waitFor({ state: "attached" });

  // Typing both ways, and presence.
  const typing: string[][] = [];
  samChannel.on("typing", (users) => typing.push(users));
  await olive.getByRole("textbox", { name: "Message" }).pressSequentially("hm", { delay: 50 });
  await expect.poll(() => typing.some((users) => users.length === 1)).toBe(true);
  await olive.getByRole("textbox", { name: "Message" }).fill("");
  await samChannel.typing(true);
  await olive.getByText("Sam is typing…").waitFor();
  await olive.getByRole("button", { name: /^Sam, online/ }).waitFor();
  await sam.setPresence("away");
  await olive.getByRole("button", { name: /^Sam, away/ }).waitFor();
  expect(samAuth.user.profile.display_name).toBe("Sam");
});

/** The read pointer the server keeps for `name` in `channel`, as a fresh login reports it. */
async function readPointerOf(name: string, channel: string): Promise<number | undefined> {
  const client = sdkUser(name, "Reader");
  const auth = await client.connect();
  client.close();
  return auth["chat.read_pointers"][channel];
}

it("opens where you stopped reading, and counts as read only what you scrolled past", async () => {
  const channelName = unique("away");
  const sam = sdkUser(unique("sam"), "Sam");
  await sam.connect();
  const channel = sam.channel(channelName);
  await channel.join();
  await channel.sendText("before you left");
  const reader = unique("reader");
  const first = await openAs(browser, parley, reader, "Reader", `?channel=${channelName}`);
  await waitForChannel(first, channelName);
  await message(first, "before you left").waitFor();
  await first.context().close();
  for (let i = 1; i <= 60; i++) await channel.sendText(`while away ${i}`);

  const second = await openAs(browser, parley, reader, "Reader", `?channel=${channelName}`);
  await waitForChannel(second, channelName);
  const marker = log(second).getByRole("separator", { name: "New messages" });
  await marker.waitFor();
  // The marker is on screen, just above the first unread line; the newest is below the fold.
  const view = await log(second).boundingBox();
  const at = await marker.boundingBox();
  expect(at && view && at.y >= view.y - 1 && at.y < view.y + view.height, JSON.stringify({ at, view })).toBe(
    true,
  );
  expect(
    await log(second)
      .locator("li.message", { has: second.locator(".body", { hasText: /^while away 1$/ }) })
      .evaluate((item) =>
        (
          item as unknown as { previousElementSibling: { getAttribute(name: string): string | null } }
        ).previousElementSibling.getAttribute("role"),
      ),
  ).toBe("separator");
  // What is below the fold is not read yet.
  const newestSeen = await readPointerOf(reader, channelName);
  const last = (await channel.fetch({ count: 1 })).results[0]?.event_id ?? 0;
  expect(newestSeen).toBeLessThan(last);
  await second.context().close();

  // Not read yet: the marker is still there on the next visit. Then read to the end.
  const third = await openAs(browser, parley, reader, "Reader", `?channel=${channelName}`);
  await waitForChannel(third, channelName);
  await log(third).getByRole("separator", { name: "New messages" }).waitFor();
  await log(third).evaluate((list) => {
    list.scrollTop = list.scrollHeight;
  });
  // Reading reaches the server as a read pointer: the newest line's.
  const newest = (await channel.fetch({ count: 1 })).results[0]?.event_id;
  await expect.poll(() => readPointerOf(reader, channelName)).toBe(newest);
  await third.context().close();

  const fourth = await openAs(browser, parley, reader, "Reader", `?channel=${channelName}`);
  await waitForChannel(fourth, channelName);
  await message(fourth, "while away 60").waitFor();
  expect(await log(fourth).getByRole("separator", { name: "New messages" }).count()).toBe(0);
});

it("loads older history as you scroll up, each message once", async () => {
  const channelName = unique("history");
  const sam = sdkUser(unique("sam"), "Sam");
  await sam.connect();
  const channel = sam.channel(channelName);
  await channel.join();
  const sent: number[] = [];
  for (let i = 1; i <= 130; i++) sent.push((await channel.sendText(`line ${i}`)).event_id);
  // Changes made after the fact, far from what they change: the first page holds these events,
  // the messages they change come pages later, already showing their current state.
  await channel.edit(sent[9] as number, "line 10, edited once");
  await channel.edit(sent[9] as number, "line 10, edited twice");
  await channel.edit(sent[19] as number, "line 20, edited");
  await channel.delete(sent[19] as number);
  await channel.react(sent[4] as number, "🎉");
  await channel.react(sent[4] as number, "👍");
  await channel.react(sent[4] as number, "🎉", true);
  const page = await openAs(browser, parley, unique("reader"), "Reader", `?channel=${channelName}`);
  await waitForChannel(page, channelName);
  await message(page, "line 130").waitFor();
  expect(
    await log(page)
      .locator(".body", { hasText: /^line 1$/ })
      .count(),
  ).toBe(0);
  for (
    let round = 0;
    round < 6 && (await log(page).getByText("This is the beginning of the channel.").count()) === 0;
    round++
  ) {
    await log(page).evaluate((list) => {
      list.scrollTop = 0;
      list.dispatchEvent(new Event("scroll"));
    });
    await page.waitForTimeout(300);
  }
  await log(page).getByText("This is the beginning of the channel.").waitFor();
  // Up in history when something new comes: a button brings the reader down to it.
  await channel.sendText("news while you read old lines");
  await page.getByRole("button", { name: "Jump to newest" }).click();
  await expect.poll(() => message(page, "news while you read old lines").isVisible()).toBe(true);
  await page.getByRole("button", { name: "Jump to newest" }).waitFor({ state: "hidden" });
  const texts = await log(page).locator("li.message .body").allTextContents();
  const lines = texts.filter((text) => /^line \d+$/.test(text));
  expect(lines).toHaveLength(128);
  expect(texts.filter((text) => text.startsWith("line 10,"))).toEqual(["line 10, edited twice (edited)"]);
  expect(texts.filter((text) => text.startsWith("line 20"))).toEqual([]);
  expect(texts).toContain("Message deleted");
  const fifth = log(page).locator("li.message", { has: page.locator(".body", { hasText: /^line 5$/ }) });
  expect(await fifth.locator(".reaction").allTextContents()).toEqual(["👍 1"]);
  expect(lines[0]).toBe("line 1");
  expect(lines.at(-1)).toBe("line 130");
});
