// The page's looks: light and dark themes following the system, a phone layout, and the embed
// mode a live-event player puts beside its video; the script's weight and a cold first paint.
// Screenshots of each view go to the test's data directory, or to docs/screenshots with
// PARLEY_SCREENSHOTS=docs (how the README's pictures are made).
import { readdir, readFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join, resolve } from "node:path";
import { gzipSync } from "node:zlib";
import type { Browser, Page } from "playwright-core";
import sharp from "sharp";
import { afterAll, beforeAll, expect, it } from "vitest";
import { ParleyClient } from "../../packages/client/src/index.ts";
import { launchBrowser, screenshotText } from "../support/browser.ts";
import { MatrixUser } from "../support/matrix-user.ts";
import { startTestParley, type TestParley, unique } from "../support/parley.ts";
import { freePort } from "../support/synapse.ts";
import { log, message, openAs, pageUrl, say, waitForChannel } from "../support/web-page.ts";

let parley: TestParley;
let browser: Browser;
let carol: MatrixUser;
let sam: ParleyClient;
const channelName = unique("live");
const shots = () =>
  process.env.PARLEY_SCREENSHOTS === "docs"
    ? resolve("docs/screenshots")
    : join(parley.env.root, "screenshots");

/** A live-event player's page on another origin, framing the chat in its embed mode. */
let player: Server;
let playerOrigin: string;
let strangerOrigin: string;
function playerPage(req: IncomingMessage, res: ServerResponse): void {
  const src = `${parley.httpUrl()}/?channel=${channelName}&embed=1`;
  res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
  res.end(
    `<!doctype html><title>Player</title><h1>The set</h1><iframe title="Chat" src="${src}" width="400" height="500"></iframe>`,
  );
  void req;
}

beforeAll(async () => {
  player = createServer(playerPage);
  await new Promise<void>((done) => player.listen(0, "127.0.0.1", done));
  playerOrigin = `http://127.0.0.1:${(player.address() as AddressInfo).port}`;
  // The same page under another name: an origin the operator did not list.
  strangerOrigin = `http://localhost:${(player.address() as AddressInfo).port}`;
  parley = await startTestParley({
    gatewayPort: await freePort(),
    gateway: { web_embed_origins: [playerOrigin] },
  });
  browser = await launchBrowser();
  carol = await MatrixUser.register(parley.env.homeserverUrl, unique("carol"), "Carol");
  // A conversation to look at: the page's user owns the channel, Sam and Carol talk in it.
  const owner = await openAs(browser, parley, unique("dj"), "DJ Nova", `?channel=${channelName}`);
  await waitForChannel(owner, channelName);
  const samName = unique("sam");
  sam = new ParleyClient({ url: parley.url(), token: () => parley.token(samName, "Sam") });
  await sam.connect();
  const channel = sam.channel(channelName);
  await channel.join();
  const face = await sharp({ create: { width: 64, height: 64, channels: 3, background: "#d9822b" } })
    .png()
    .toBuffer();
  await carol.client.setAvatarUrl(await carol.client.uploadContent(face, "image/png", "carol.png"));
  const roomId = await carol.join(`#chat_${channelName}:localhost`);
  await say(owner, "Welcome to the Friday set! Requests are open.");
  const track = await channel.sendText("This track is unreal");
  await channel.react(track.event_id, "🔥");
  await carol.sendText(roomId, "Hello from Element 👋");
  await channel.send({ type: "emote", body: "dances" });
  const welcome = (await channel.fetch({ count: 20 })).results.find((event) =>
    JSON.stringify(event.content).includes("Welcome to the Friday set"),
  );
  await channel.sendText("Can we get the encore at midnight?", {
    ...(welcome ? { reply_to: welcome.event_id } : {}),
  });
  const flyer = await sharp({
    create: { width: 480, height: 200, channels: 3, background: { r: 40, g: 60, b: 160 } },
  })
    .png()
    .toBuffer();
  const { mxc: _mxc, ...file } = await sam.upload(
    new Blob([new Uint8Array(flyer)], { type: "image/png" }),
    "flyer.png",
  );
  await channel.send({ type: "files", files: [file], body: "Tonight's flyer" });
  await message(owner, "Tonight's flyer").waitFor();
  await owner.context().close();
});
afterAll(async () => {
  player?.close();
  sam?.close();
  carol?.stop();
  await browser?.close();
  await parley?.stop();
});

async function view(
  displayName: string,
  options: Parameters<Browser["newContext"]>[0],
  query = `?channel=${channelName}`,
): Promise<Page> {
  const page = await openAs(browser, parley, unique("viewer"), displayName, query, options);
  await log(page).and(page.locator(":not([aria-busy])")).waitFor();
  await message(page, "Hello from Element").waitFor();
  return page;
}

const background = (page: Page) => page.evaluate<string>("getComputedStyle(document.body).backgroundColor");

it("follows the system's light and dark theme", async () => {
  const light = await view("Mia", { colorScheme: "light" });
  const dark = await view("Max", { colorScheme: "dark" });
  expect(await background(light)).toBe("rgb(255, 255, 255)");
  expect(await background(dark)).toBe("rgb(22, 24, 28)");
  const lightText = await screenshotText(light, join(shots(), "light.png"));
  for (const text of ["Parley", "Welcome to the Friday set", "This track is unreal", "Hello from Element"])
    expect(lightText).toContain(text);
  await screenshotText(dark, join(shots(), "dark.png"));
  await light.context().close();
  await dark.context().close();
});

it("fits a phone: one column, channels and members one tap away", async () => {
  const phone = await view("Pia", { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  expect(await phone.getByRole("navigation", { name: "Channels" }).isVisible()).toBe(false);
  expect(await phone.getByRole("complementary").isVisible()).toBe(false);
  const box = await log(phone).boundingBox();
  expect(box?.width).toBeGreaterThan(350);
  await say(phone, "typed on a phone");
  await message(phone, "typed on a phone").waitFor();
  await screenshotText(phone, join(shots(), "phone.png"));
  await phone.getByRole("button", { name: "Show members" }).click();
  await phone.getByRole("complementary").getByText("Sam").waitFor();
  await phone.getByRole("button", { name: "Close members" }).click();
  await phone.getByRole("button", { name: "Show channels" }).click();
  await phone
    .getByRole("navigation", { name: "Channels" })
    .getByRole("button", { name: `#${channelName}` })
    .waitFor();
  await phone.context().close();
});

it("embeds one channel without chrome beside a player", async () => {
  const embed = await view(
    "Eve",
    { viewport: { width: 420, height: 640 } },
    `?channel=${channelName}&embed=1`,
  );
  expect(await embed.getByRole("navigation", { name: "Channels" }).isVisible()).toBe(false);
  expect(await embed.getByRole("complementary").isVisible()).toBe(false);
  expect(await embed.getByRole("heading", { name: `#${channelName}` }).isVisible()).toBe(false);
  await say(embed, "chatting from the player");
  // The newest line stays in view, also after the flyer above it loaded.
  // (It may take a moment on a busy machine: the image loads, then the list follows it down.)
  await expect
    .poll(async () => {
      const line = await message(embed, "chatting from the player").boundingBox();
      const list = await log(embed).boundingBox();
      return Boolean(line && list && line.y >= list.y && line.y + line.height <= list.y + list.height + 1);
    })
    .toBe(true);
  await expect
    .poll(async () => {
      const page = await sam.channel(channelName).fetch({ count: 5 });
      return page.results.some((event) => JSON.stringify(event.content).includes("chatting from the player"));
    })
    .toBe(true);
  await screenshotText(embed, join(shots(), "embed.png"));
  await embed.context().close();
});

it("can be framed by the player pages the operator lists, and by no other", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${playerOrigin}/`);
  const chat = page.frameLocator('iframe[title="Chat"]');
  await chat.getByRole("log", { name: "Messages" }).getByText("Hello from Element").waitFor();
  await page.goto(`${strangerOrigin}/`);
  await page.getByRole("heading", { name: "The set" }).waitFor();
  // Chromium refuses the frame (frame-ancestors) and shows its error page in it instead.
  const frameUrl = () =>
    page
      .frames()
      .find((candidate) => candidate !== page.mainFrame())
      ?.url() ?? "";
  await expect.poll(frameUrl).toMatch(/^chrome-error:/);
  await context.close();
});

it("a guest in the embed chooses a name before posting, and reads before that", async () => {
  const context = await browser.newContext({ viewport: { width: 420, height: 640 } });
  const page = await context.newPage();
  await page.goto(pageUrl(parley, `?channel=${channelName}&embed=1`));
  await message(page, "Hello from Element").waitFor();
  await page.getByRole("textbox", { name: "Choose a name to chat" }).fill("Guest Gil");
  await page.getByRole("button", { name: "Start chatting" }).click();
  await page.getByRole("status").filter({ hasText: "Connected as Guest Gil" }).waitFor({ state: "attached" });
  await log(page).getByText("Guest Gil joined").waitFor();
  await say(page, "hi from a guest");
  await message(page, "hi from a guest").waitFor();
  await context.close();
});

it("keeps the script small and paints fast on a cold load", async () => {
  // What the page loads: every module of the built page and the SDK, gzipped as a server would.
  const dist = resolve("web/dist");
  let gzipped = 0;
  for (const entry of await readdir(dist, { recursive: true })) {
    if (entry.endsWith(".js")) gzipped += gzipSync(await readFile(join(dist, entry))).length;
  }
  expect(gzipped).toBeLessThan(100 * 1024);
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(pageUrl(parley, `?channel=${channelName}`));
  const paint = await page.evaluate(
    () => performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? Number.NaN,
  );
  // Recorded, not asserted (docs/benchmarks.md): timings belong to benchmarks.
  console.log(
    `web page: script ${(gzipped / 1024).toFixed(1)} KB gzipped, first contentful paint ${paint.toFixed(0)} ms`,
  );
  expect(Number.isFinite(paint)).toBe(true);
  await context.close();
});
