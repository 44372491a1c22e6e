// The web chat page in a real browser (Debian's Chromium through Playwright): two pages and an
// ordinary Matrix user in one channel, a Parley restart in the middle of the conversation, and a
// screenshot whose text Tesseract reads back.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import sharp from "sharp";
import { afterAll, beforeAll, expect, it } from "vitest";
import { ParleyClient } from "../../packages/client/src/index.ts";
import { launchBrowser, screenshotText } from "../support/browser.ts";
import { MatrixUser } from "../support/matrix-user.ts";
import { startTestParley, type TestParley, unique } from "../support/parley.ts";
import { freePort } from "../support/synapse.ts";

let parley: TestParley;
let browser: Browser;
let carol: MatrixUser;

beforeAll(async () => {
  parley = await startTestParley({ gatewayPort: await freePort() });
  browser = await launchBrowser();
  carol = await MatrixUser.register(parley.env.homeserverUrl, unique("carol"), "Carol");
});
afterAll(async () => {
  carol?.stop();
  await browser?.close();
  await parley?.stop();
});

const pageUrl = () =>
  parley
    .url()
    .replace(/^ws/, "http")
    .replace(/\/chat$/, "/");

async function openChat(name: string, channel: string): Promise<Page> {
  // Each page is its own browser context: its own localStorage, so its own guest.
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${pageUrl()}?channel=${channel}`);
  await page.getByRole("status").filter({ hasText: "Connected" }).waitFor();
  // A new guest reads the channel at once, and joins it once they choose a name.
  await page.getByRole("heading", { name: `#${channel}` }).waitFor();
  await page.getByRole("textbox", { name: "Choose a name to chat" }).fill(name);
  await page.getByRole("button", { name: "Start chatting" }).click();
  await page
    .getByRole("status")
    .filter({ hasText: `Connected as ${name}` })
    .waitFor();
  await log(page).getByText(`${name} joined`).waitFor();
  return page;
}

const say = async (page: Page, text: string) => {
  const input = page.getByRole("textbox", { name: "Message" });
  await input.fill(text);
  await input.press("Enter");
};
const log = (page: Page) => page.getByRole("log", { name: "Messages" });
const expectLine = async (page: Page, text: string) => {
  await log(page).getByText(text).waitFor({ timeout: 15_000 });
};

it("two browser pages and a Matrix user chat in one channel, across a Parley restart", async () => {
  const channel = unique("web");
  const ada = await openChat("Ada", channel);
  const ben = await openChat("Ben", channel);
  await expectLine(ada, "Ben joined");

  // The Matrix user joins the same room from Element's side.
  await carol.join(`#chat_${channel}:localhost`);
  await expectLine(ada, "Carol joined");
  await ada.getByRole("complementary").getByText("Carol").waitFor();

  await say(ada, "hello from ada");
  await expectLine(ben, "hello from ada");
  const roomId = await carol.join(`#chat_${channel}:localhost`);
  await carol.waitForEvent((r) => r.roomId === roomId && r.event.content.body === "hello from ada");
  await carol.sendText(roomId, "hello from element");
  await expectLine(ada, "hello from element");
  await expectLine(ben, "hello from element");
  expect(await log(ben).locator(".sender", { hasText: "Ada" }).first().isVisible()).toBe(true);

  // Parley restarts mid-conversation; Carol talks meanwhile; the pages reconnect and catch up.
  await parley.stop();
  await ada.getByRole("status").filter({ hasText: "reconnecting" }).waitFor();
  await carol.sendText(roomId, "said while parley was away");
  await parley.restart();
  await ada.getByRole("status").filter({ hasText: "Connected" }).waitFor({ timeout: 20_000 });
  await expectLine(ada, "said while parley was away");
  await expectLine(ben, "said while parley was away");
  await ben.getByRole("status").filter({ hasText: "Connected" }).waitFor({ timeout: 20_000 });
  await say(ben, "ben is back");
  await expectLine(ada, "ben is back");
  await carol.waitForEvent((r) => r.roomId === roomId && r.event.content.body === "ben is back");

  // Nothing twice.
  const lines = await log(ada).getByRole("listitem").allTextContents();
  for (const text of ["hello from ada", "hello from element", "said while parley was away", "ben is back"]) {
    expect(
      lines.filter((line) => line.includes(text)),
      text,
    ).toHaveLength(1);
  }

  // What a person sees: the screenshot, read back.
  const dir = join(parley.env.root, "screenshots");
  mkdirSync(dir, { recursive: true });
  const text = await screenshotText(ada, join(dir, "ada.png"));
  for (const expected of ["Parley", "hello from ada", "hello from element", "ben is back"])
    expect(text).toContain(expected);
});

it("a token handed to the page in its fragment logs in, and leaves the address bar at once", async () => {
  const name = unique("tokened");
  const token = await parley.token(name, "Tokened");
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const requested: string[] = [];
    page.on("request", (request) => requested.push(request.url()));
    await page.goto(`${pageUrl()}?channel=x#token=${token}`);
    await page.getByRole("status").filter({ hasText: "Connected as Tokened" }).waitFor();
    expect(page.url()).not.toContain(token);
    expect(page.url()).not.toContain("token=");
    // Replaced, not pushed: the entry before this page is the blank tab, not the token URL.
    await page.goBack();
    expect(page.url()).not.toContain(token);
    // The fragment never went to the server, nor in any request the page made.
    expect(requested.some((url) => url.includes(token))).toBe(false);
  } finally {
    await context.close();
  }
});

it("after a reconnect, shows what changed in place while it was away (a moderator's sensitive mark)", async () => {
  const channel = unique("marks");
  const modName = unique("mod");
  const mod = new ParleyClient({ url: parley.url(), token: () => parley.token(modName, "Mod") });
  try {
    await mod.connect();
    const owned = mod.channel(channel);
    await owned.join();
    const png = await sharp({ create: { width: 40, height: 30, channels: 3, background: "#c33" } })
      .png()
      .toBuffer();
    const { mxc: _mxc, ...file } = await mod.upload(
      new Blob([new Uint8Array(png)], { type: "image/png" }),
      "stage.png",
    );
    const posted = await owned.send({ type: "files", files: [file] });
    const page = await openChat("Vera", channel);
    await log(page).getByRole("img", { name: "stage.png" }).waitFor();
    expect(await log(page).getByRole("button", { name: "Sensitive media: show" }).count()).toBe(0);

    // The page is cut off (offline) across a Parley restart, and the mark is made meanwhile.
    await parley.stop();
    await page.getByRole("status").filter({ hasText: "reconnecting" }).waitFor();
    await page.context().setOffline(true);
    await parley.restart();
    await mod.connect();
    await owned.markMedia(posted.event_id, true);
    await page.context().setOffline(false);
    await page.getByRole("status").filter({ hasText: "Connected as Vera" }).waitFor({ timeout: 40_000 });
    await log(page).getByRole("button", { name: "Sensitive media: show" }).waitFor();
  } finally {
    mod.close();
  }
});
