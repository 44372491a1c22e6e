// Finding and keeping channels in the web page: the directory (online counts, search, join), the
// joined channels and direct conversations with unread dots and mention counts, leaving, and a
// direct message started from the member list — with a native SDK client and a Matrix user.
import type { Browser } from "playwright-core";
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

async function sdkUser(displayName: string): Promise<ParleyClient> {
  const name = unique(displayName.toLowerCase());
  const client = new ParleyClient({ url: parley.url(), token: () => parley.token(name, displayName) });
  clients.push(client);
  await client.connect();
  return client;
}

it("finds public channels in the directory by name, with who is online, and joins one", async () => {
  const sam = await sdkUser("Sam");
  const busy = unique("busy");
  const channel = sam.channel(busy);
  await channel.join();
  await channel.settings({ rules: null });
  const quiet = unique("quiet");
  await sam.channel(quiet).join();
  const roomId = await carol.join(`#chat_${busy}:localhost`);
  await carol.sendText(roomId, "the directory brought you here");

  const page = await openAs(browser, parley, unique("finder"), "Finn", "");
  // Nothing joined yet: the page opens the directory.
  const directory = page.getByRole("dialog", { name: "Browse channels" });
  await directory.waitFor();
  await directory.getByRole("searchbox", { name: "Search channels" }).fill(busy);
  const row = directory.getByRole("listitem").filter({ hasText: `#${busy}` });
  await row.waitFor();
  expect(await row.textContent()).toMatch(/[12] online · 2 members/);
  await expect
    .poll(() =>
      directory
        .getByRole("listitem")
        .filter({ hasText: `#${quiet}` })
        .count(),
    )
    .toBe(0);
  await row.getByRole("button", { name: `Join #${busy}` }).click();
  await waitForChannel(page, busy);
  await message(page, "the directory brought you here").waitFor();
  const sidebar = page.getByRole("navigation", { name: "Channels" });
  await sidebar.getByRole("button", { name: `#${busy}` }).waitFor();
  expect((await channel.members()).members.map((member) => member.profile.display_name)).toContain("Finn");

  // Leave: gone from the list, and from the channel's members.
  await page.getByRole("button", { name: "Leave" }).click();
  await expect.poll(() => sidebar.getByRole("button", { name: `#${busy}` }).count()).toBe(0);
  await expect
    .poll(async () =>
      (await channel.members()).members.some((member) => member.profile.display_name === "Finn"),
    )
    .toBe(false);
});

it("marks unread channels and counts mentions, clearing both as you read", async () => {
  const sam = await sdkUser("Sam");
  const first = unique("first");
  const second = unique("second");
  const rita = unique("rita");
  const page = await openAs(browser, parley, rita, "Rita", `?channel=${second}`);
  await waitForChannel(page, second);
  await page.getByRole("button", { name: "Browse channels" }).click();
  await page.getByRole("textbox", { name: "Or open a channel by name" }).fill(first);
  await page.getByRole("button", { name: "Open", exact: true }).click();
  await waitForChannel(page, first);
  const ritaId = (await sam.channel(second).join()).members.find(
    (m) => m.profile.display_name === "Rita",
  )?.id;
  expect(ritaId).toBeDefined();

  const sidebar = page.getByRole("navigation", { name: "Channels" });
  await sam.channel(second).sendText("something new over here");
  await sidebar.getByRole("button", { name: new RegExp(`#${second}.*unread`) }).waitFor();
  await sam.channel(second).sendText(`${ritaId} can you look at this?`);
  await sidebar.getByRole("button", { name: new RegExp(`#${second}.*1 mentions`) }).waitFor();

  await sidebar.getByRole("button", { name: new RegExp(`#${second}`) }).click();
  await waitForChannel(page, second);
  await log(page).getByRole("separator", { name: "New messages" }).waitFor();
  await message(page, "can you look at this").waitFor();
  // Reading clears the dot and the count, here and for the server.
  await sidebar.getByRole("button", { name: new RegExp(`#${first}`) }).click();
  await waitForChannel(page, first);
  const secondButton = sidebar.getByRole("button", { name: new RegExp(`#${second}`) });
  await secondButton.waitFor();
  expect(await secondButton.locator(".badge").count()).toBe(0);
  expect(await secondButton.textContent()).toBe(`#${second}`);
  // The server kept it: a fresh page shows the channel read.
  const again = await openAs(browser, parley, rita, "Rita", `?channel=${first}`);
  await waitForChannel(again, first);
  const secondAgain = again
    .getByRole("navigation", { name: "Channels" })
    .getByRole("button", { name: new RegExp(`#${second}`) });
  await secondAgain.waitFor();
  expect(await secondAgain.textContent()).toBe(`#${second}`);
});

it("starts a direct conversation from the member list, shown under its person's name", async () => {
  const sam = await sdkUser("Sam");
  const lobby = unique("lobby");
  await sam.channel(lobby).join();
  const page = await openAs(browser, parley, unique("dana"), "Dana", `?channel=${lobby}`);
  await waitForChannel(page, lobby);
  await page
    .getByRole("complementary")
    .getByRole("button", { name: /^Sam\b/ })
    .click();
  const dialog = page.getByRole("dialog", { name: "Sam" });
  await dialog.getByRole("button", { name: "Message" }).click();
  await page.getByRole("heading", { name: "Sam", exact: true }).waitFor();
  await say(page, "a word in private");
  await message(page, "a word in private").waitFor();
  const direct = await sam.directChannel([
    (await sam.channel(lobby).members()).members.find((m) => m.profile.display_name === "Dana")?.id ?? "",
  ]);
  const history = await direct.fetch({ count: 10 });
  expect(history.results.some((event) => JSON.stringify(event.content).includes("a word in private"))).toBe(
    true,
  );
  await direct.sendText("and a word back");
  await message(page, "and a word back").waitFor();
  const directs = page.getByRole("list", { name: "Direct messages" });
  await directs.getByRole("button", { name: /Sam/ }).waitFor();
});
