// Files in the web page: uploads by picker, drag and drop and paste reach a native SDK client and
// an ordinary Matrix user; images show inline; sensitive media is blurred until clicked; held files
// wait for a moderator, who approves them from the page.
import type { Browser, Page } from "playwright-core";
import sharp from "sharp";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type ChatEvent, ParleyClient } from "../../packages/client/src/index.ts";
import { launchBrowser } from "../support/browser.ts";
import { MatrixUser } from "../support/matrix-user.ts";
import { startTestParley, type TestParley, unique } from "../support/parley.ts";
import { freePort } from "../support/synapse.ts";
import { message, openAs, say, waitForChannel } from "../support/web-page.ts";

let parley: TestParley;
let browser: Browser;
let carol: MatrixUser;
const clients: ParleyClient[] = [];

const picture = (red: number) =>
  sharp({ create: { width: 64, height: 48, channels: 3, background: { r: red, g: 120, b: 200 } } })
    .png()
    .toBuffer();

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

const fileNames = (event: ChatEvent) =>
  event.event_type === "channel.message" && event.content.type === "files"
    ? event.content.files.map((file) => file.name)
    : [];

/** Hands the page a file the way a drop or a paste does (the test's TypeScript has no DOM types). */
async function dispatchFile(page: Page, how: "drop" | "paste", name: string, bytes: Buffer): Promise<void> {
  await page.evaluate(
    `(() => {
      const bytes = Uint8Array.from(atob(${JSON.stringify(bytes.toString("base64"))}), (c) => c.charCodeAt(0));
      const data = new DataTransfer();
      data.items.add(new File([bytes], ${JSON.stringify(name)}, { type: "image/png" }));
      if (${JSON.stringify(how)} === "drop") {
        const zone = document.getElementById("chat");
        zone.dispatchEvent(new DragEvent("dragover", { dataTransfer: data, bubbles: true, cancelable: true }));
        zone.dispatchEvent(new DragEvent("drop", { dataTransfer: data, bubbles: true, cancelable: true }));
      } else {
        document.getElementById("message").dispatchEvent(
          new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true }),
        );
      }
    })()`,
  );
}

it("uploads by picker, drop and paste; everyone gets the image, shown inline", async () => {
  const channelName = unique("pics");
  const page = await openAs(browser, parley, unique("olive"), "Olive", `?channel=${channelName}`);
  await waitForChannel(page, channelName);
  const sam = await sdkUser("Sam");
  const channel = sam.channel(channelName);
  await channel.join();
  const got: ChatEvent[] = [];
  channel.on("message", (event) => got.push(event));
  const roomId = await carol.join(`#chat_${channelName}:localhost`);

  await page
    .getByLabel("Attach files")
    .setInputFiles({ name: "picked.png", mimeType: "image/png", buffer: await picture(10) });
  await expect.poll(() => got.flatMap(fileNames)).toContain("picked.png");
  const image = message(page, "Olive").getByRole("img", { name: "picked.png" });
  await image.waitFor();
  // Loaded and decoded: a broken image has no natural width.
  await expect
    .poll(() =>
      image.evaluate((img) => {
        const loaded = img as unknown as { complete: boolean; naturalWidth: number };
        return loaded.complete ? loaded.naturalWidth : 0;
      }),
    )
    .toBe(64);
  await carol.waitForEvent(
    (r) =>
      r.roomId === roomId && r.event.content.msgtype === "m.image" && r.event.content.body === "picked.png",
  );

  await dispatchFile(page, "drop", "dropped.png", await picture(90));
  await expect.poll(() => got.flatMap(fileNames)).toContain("dropped.png");
  await page.getByRole("img", { name: "dropped.png" }).waitFor();

  await page.getByRole("textbox", { name: "Message" }).fill("a caption for the paste");
  await dispatchFile(page, "paste", "pasted.png", await picture(180));
  await expect.poll(() => got.flatMap(fileNames)).toContain("pasted.png");
  const pasted = got.find((event) => fileNames(event).includes("pasted.png"));
  expect(pasted?.content).toMatchObject({ body: "a caption for the paste" });
  await page.getByRole("img", { name: "pasted.png" }).waitFor();
  // The caption is the body on Matrix, the file's name its filename.
  await carol.waitForEvent(
    (r) =>
      r.roomId === roomId &&
      r.event.content.filename === "pasted.png" &&
      r.event.content.body === "a caption for the paste",
  );
});

it("blurs media a moderator marked sensitive until clicked, and holds files for review when asked", async () => {
  const channelName = unique("review");
  const owner = await openAs(browser, parley, unique("owner"), "Olive", `?channel=${channelName}`);
  await waitForChannel(owner, channelName);
  const viewer = await openAs(browser, parley, unique("viewer"), "Vic", `?channel=${channelName}`);
  await waitForChannel(viewer, channelName);
  const sam = await sdkUser("Sam");
  const channel = sam.channel(channelName);
  await channel.join();
  const uploaded = await sam.upload(
    new Blob([new Uint8Array(await picture(200))], { type: "image/png" }),
    "spicy.png",
  );
  const { mxc: _mxc, ...file } = uploaded;
  await channel.send({ type: "files", files: [file] });

  // The owner marks it from the page; the viewer sees it blurred, and clicks to see it.
  await message(owner, "Sam").getByRole("img", { name: "spicy.png" }).waitFor();
  await message(owner, "Sam").getByRole("button", { name: "Mark sensitive" }).click();
  const reveal = message(viewer, "Sam").getByRole("button", { name: "Sensitive media: show" });
  await reveal.waitFor();
  expect(await message(viewer, "Sam").locator("figure").getAttribute("class")).toContain("nsfw");
  await reveal.click();
  expect(await message(viewer, "Sam").locator("figure").getAttribute("class")).not.toContain("nsfw");
  await message(owner, "Sam").getByRole("button", { name: "Clear sensitive mark" }).waitFor();

  // Files held until reviewed: set from the page's settings.
  await owner.getByRole("button", { name: "Settings" }).click();
  const settings = owner.getByRole("dialog", { name: "Channel settings" });
  await settings.getByLabel("Media review").selectOption("before");
  await settings.getByRole("button", { name: "Save" }).click();
  await settings.waitFor({ state: "hidden" });
  await expect.poll(async () => (await channel.subscribe()).state.settings.media_review).toBe("before");

  // Sam (a member, not a moderator) listens from before the upload: he must not get it yet.
  const heldForSam: ChatEvent[] = [];
  channel.on("event", (event) => heldForSam.push(event));
  channel.on("update", (event) => heldForSam.push(event));
  await viewer
    .getByLabel("Attach files")
    .setInputFiles({ name: "held.png", mimeType: "image/png", buffer: await picture(30) });
  await message(viewer, "Vic").getByText("Waiting for a moderator's review").waitFor();
  await owner.locator("li.message", { has: owner.getByRole("img", { name: "held.png" }) }).waitFor();
  await say(viewer, "after the held file");
  await expect
    .poll(() => heldForSam.some((event) => JSON.stringify(event.content).includes("after the held")))
    .toBe(true);
  expect(heldForSam.flatMap(fileNames)).not.toContain("held.png");
  await owner.getByRole("button", { name: "Approve", exact: true }).click();
  await expect.poll(() => heldForSam.flatMap(fileNames)).toContain("held.png");
  await expect
    .poll(() => message(viewer, "Vic").getByText("Waiting for a moderator's review").count())
    .toBe(0);
});
