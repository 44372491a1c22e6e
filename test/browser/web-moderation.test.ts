// Moderation from the web page: timeouts, roles, kicks and bans from the member list or from a
// message, binding a native SDK client and an ordinary Matrix user; slow mode and rules (with the
// accept dialog for a member who must accept them) and the moderators' channel.
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { ParleyClient, ParleyError } from "../../packages/client/src/index.ts";
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

const refusal = (promise: Promise<unknown>) =>
  promise.then(
    () => "accepted",
    (error: unknown) => (error instanceof ParleyError ? error.code : String(error)),
  );

it("times out, promotes, kicks and bans from the member list and from a message", async () => {
  const channelName = unique("mod");
  const page = await openAs(browser, parley, unique("olive"), "Olive", `?channel=${channelName}`);
  await waitForChannel(page, channelName);
  const sam = await sdkUser("Sam");
  const channel = sam.channel(channelName);
  await channel.join();
  const roomId = await carol.join(`#chat_${channelName}:localhost`);
  await carol.sendText(roomId, "spam spam spam");
  const members = page.getByRole("complementary");

  // A timeout from the member list; Sam cannot post until it is lifted.
  await members.getByRole("button", { name: /^Sam\b/ }).click();
  let dialog = page.getByRole("dialog", { name: "Sam" });
  await dialog.getByLabel("Time out for").selectOption("120");
  await dialog.getByLabel("Reason").fill("cool down");
  await dialog.getByRole("button", { name: "Time out" }).click();
  await log(page)
    .getByText(/Sam was timed out for 2 min by Olive/)
    .waitFor();
  expect(await refusal(channel.sendText("let me talk"))).toBe("channel.timed_out");
  await members.getByRole("button", { name: /^Sam\b/ }).click();
  await dialog.getByRole("button", { name: "Lift timeout" }).click();
  await expect.poll(() => refusal(channel.sendText("thanks"))).toBe("accepted");

  // A role: Sam becomes a moderator, here and in Matrix's power levels.
  await members.getByRole("button", { name: /^Sam\b/ }).click();
  await dialog.getByRole("button", { name: "Make moderator" }).click();
  await members.getByRole("button", { name: /^Sam \(moderator\)/ }).waitFor();
  expect((await channel.members()).members.find((m) => m.profile.display_name === "Sam")?.role).toBe(
    "moderator",
  );

  // From a message: the Matrix user who spammed is banned, in the room too.
  await message(page, "spam spam spam").getByRole("button", { name: "Moderate" }).click();
  dialog = page.getByRole("dialog", { name: "Carol" });
  await dialog.getByLabel("Reason").fill("spam");
  await dialog.getByRole("button", { name: "Ban" }).click();
  await log(page).getByText("Carol was banned by Olive: spam").waitFor();
  // The homeserver holds it: the banned Matrix user can no longer post in the room.
  await expect
    .poll(
      () =>
        carol.sendText(roomId, "still here?").then(
          () => "posted",
          () => "refused",
        ),
      { timeout: 15_000 },
    )
    .toBe("refused");

  // A kick: Sam is out of the channel.
  await members.getByRole("button", { name: /^Sam\b/ }).click();
  await page.getByRole("dialog", { name: "Sam" }).getByRole("button", { name: "Kick" }).click();
  await log(page)
    .getByText(/Sam was removed by Olive/)
    .waitFor();
  await expect
    .poll(async () => (await channel.members()).members.some((m) => m.profile.display_name === "Sam"))
    .toBe(false);
});

it("sets slow mode and required rules; a member accepts the rules in a dialog, then posts", async () => {
  const channelName = unique("rules");
  const owner = await openAs(browser, parley, unique("owner"), "Olive", `?channel=${channelName}`);
  await waitForChannel(owner, channelName);
  await owner.getByRole("button", { name: "Settings" }).click();
  const settings = owner.getByRole("dialog", { name: "Channel settings" });
  await settings.getByLabel("Slow mode").fill("30");
  await settings.getByLabel("Rules", { exact: true }).fill("Be kind. No spoilers.");
  await settings.getByLabel("Members must accept the rules to post").check();
  await settings.getByRole("button", { name: "Save" }).click();
  await settings.waitFor({ state: "hidden" });
  await owner.getByText("Slow mode 30 s").waitFor();

  const member = await openAs(browser, parley, unique("member"), "Mel", `?channel=${channelName}`);
  await waitForChannel(member, channelName);
  await member.getByText("Slow mode 30 s").waitFor();
  await say(member, "first post");
  const rules = member.getByRole("dialog", { name: "Channel rules" });
  await rules.getByText("Be kind. No spoilers.").waitFor();
  // "Not now" keeps what was written; sending again asks again.
  await rules.getByRole("button", { name: "Not now" }).click();
  expect(await member.getByRole("textbox", { name: "Message" }).inputValue()).toBe("first post");
  await member.getByRole("textbox", { name: "Message" }).press("Enter");
  await rules.getByRole("button", { name: "Accept rules" }).click();
  await message(member, "first post").waitFor();
  await message(owner, "first post").waitFor();
  await say(member, "second post too soon");
  await member.getByRole("alert").filter({ hasText: "Slow mode is on" }).waitFor();
  expect(await member.getByRole("textbox", { name: "Message" }).inputValue()).toBe("second post too soon");
});

it("opens the moderators' channel for moderators only", async () => {
  const channelName = unique("team");
  const owner = await openAs(browser, parley, unique("owner"), "Olive", `?channel=${channelName}`);
  await waitForChannel(owner, channelName);
  const member = await openAs(browser, parley, unique("member"), "Mel", `?channel=${channelName}`);
  await waitForChannel(member, channelName);
  expect(await member.getByRole("button", { name: "Moderators' channel" }).count()).toBe(0);
  await owner.getByRole("button", { name: "Moderators' channel" }).click();
  await waitForChannel(owner, `${channelName}.mods`);
  await say(owner, "mods only in here");
  await message(owner, "mods only in here").waitFor();
  await owner
    .getByRole("navigation", { name: "Channels" })
    .getByRole("button", { name: `#${channelName}.mods` })
    .waitFor();
});
