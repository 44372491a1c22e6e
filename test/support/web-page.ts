// Driving the web chat page in Chromium for browser tests: pages logged in as named native users
// (a token in the fragment) or as guests, and the lookups every test uses.
import type { Browser, BrowserContextOptions, Locator, Page } from "playwright-core";
import type { TestParley } from "./parley.ts";

export const pageUrl = (parley: TestParley, query = "") => `${parley.httpUrl()}/${query}`;

/** A page logged in as native user `name` (owner of a channel it opens first). */
export async function openAs(
  browser: Browser,
  parley: TestParley,
  name: string,
  displayName: string,
  query: string,
  options: BrowserContextOptions = {},
): Promise<Page> {
  const token = await parley.token(name, displayName);
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, ...options });
  const page = await context.newPage();
  page.on("pageerror", (error) => console.error(`page error (${displayName}): ${error.message}`));
  await page.goto(`${pageUrl(parley, query)}#token=${token}`);
  await page
    .getByRole("status")
    .filter({ hasText: `Connected as ${displayName}` })
    .waitFor({ state: "attached" });
  return page;
}

export const log = (page: Page): Locator => page.getByRole("log", { name: "Messages" });

/** The list item of the message whose text contains `text`. */
export const message = (page: Page, text: string): Locator =>
  log(page).locator("li.message").filter({ hasText: text });

export async function say(page: Page, text: string): Promise<void> {
  const input = page.getByRole("textbox", { name: "Message" });
  await input.fill(text);
  await input.press("Enter");
}

export async function waitForChannel(page: Page, channel: string): Promise<void> {
  await page.locator(`#chat[data-channel="${channel}"]`).waitFor({ state: "attached" });
}
