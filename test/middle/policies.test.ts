// The gatekeeper and channel settings: slow mode, rules to accept, join policies (no guests, a
// claim), platform bans and silences, in the order a send is checked.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestClient } from "../support/client.ts";
import { type Middle, puppet, startMiddle } from "../support/middle.ts";
import { unique } from "../support/parley.ts";

let m: Middle;
beforeAll(async () => {
  m = await startMiddle();
});
afterAll(async () => {
  await m?.stop();
});

const send = (client: TestClient, channel: string, body: string) =>
  client.request("chat.send", { channel, event_type: "channel.message", content: { type: "text", body } });

async function channelWithFan() {
  const channel = unique("policy");
  const owner = await m.login(unique("owner"), "Owner");
  const fanName = unique("fan");
  const fan = await m.login(fanName, "Fan");
  await owner.ok("chat.join", { channel });
  await fan.ok("chat.join", { channel });
  return { channel, owner, fan, fanName };
}

describe("posting rules", () => {
  it("slow mode: one message per window, retry_after counts down, moderators exempt, edits free", async () => {
    const { channel, owner, fan } = await channelWithFan();
    await owner.ok("chat.settings", { channel, slow_mode: 30 });
    const first = await send(fan, channel, "one");
    expect(first.ok).toBe(true);
    const second = await send(fan, channel, "two");
    expect(second).toMatchObject({ ok: false, error: { code: "channel.slow_mode" } });
    const wait = second.ok ? 0 : Number(second.error.retry_after);
    expect(wait).toBeGreaterThan(29_000);
    expect(wait).toBeLessThanOrEqual(30_000);
    // An edit is not a new post.
    const edited = await fan.request("chat.send", {
      channel,
      event_type: "channel.message",
      content: { type: "text", body: "one, edited" },
      replaces: first.ok ? (first.result.event as { event_id: number }).event_id : 0,
    });
    expect(edited.ok).toBe(true);
    for (let i = 0; i < 3; i++) expect((await send(owner, channel, `owner ${i}`)).ok).toBe(true);
    await owner.ok("chat.settings", { channel, slow_mode: 0 });
    expect((await send(fan, channel, "free again")).ok).toBe(true);
  });

  it("rules to accept: refused with the rules until accepted, and again when they change", async () => {
    const { channel, owner, fan } = await channelWithFan();
    await owner.ok("chat.settings", { channel, rules: "Be kind.", rules_required: true });
    expect(await send(fan, channel, "hi")).toMatchObject({
      ok: false,
      error: { code: "channel.rules_not_accepted", rules: "Be kind." },
    });
    await fan.ok("chat.accept_rules", { channel });
    expect((await send(fan, channel, "hi")).ok).toBe(true);
    await owner.ok("chat.settings", { channel, rules: "Be kinder." });
    expect(await send(fan, channel, "again")).toMatchObject({
      ok: false,
      error: { code: "channel.rules_not_accepted" },
    });
  });

  it("the order of refusals: banned before timed out before rules before slow mode", async () => {
    const { channel, owner, fan, fanName } = await channelWithFan();
    await owner.ok("chat.settings", { channel, slow_mode: 60, rules: "Rules.", rules_required: true });
    await fan.ok("chat.accept_rules", { channel });
    expect((await send(fan, channel, "my one post")).ok).toBe(true);
    const code = async () => {
      const reply = await send(fan, channel, "again");
      return reply.ok ? "posted" : String(reply.error.code);
    };
    // Slow mode alone.
    expect(await code()).toBe("channel.slow_mode");
    // New rules as well: the rules come first.
    await owner.ok("chat.settings", { channel, rules: "New rules." });
    expect(await code()).toBe("channel.rules_not_accepted");
    // A timeout as well: it comes first.
    await owner.ok("chat.timeout", { channel, user: puppet(fanName), duration: 120 });
    expect(await code()).toBe("channel.timed_out");
    // A ban above all.
    await owner.ok("chat.ban", { channel, user: puppet(fanName) });
    await m.settle();
    expect(await code()).toBe("channel.banned");
  });
});

describe("who may enter", () => {
  it("a channel without guests refuses guests and removes those present; a claim policy checks tokens", async () => {
    const { channel, owner } = await channelWithFan();
    const guest = await TestClient.login(m.url, { client_id: `guest-${unique("g")}` });
    await guest.ok("user.update", { profile: { display_name: "Guest" } });
    await guest.ok("chat.join", { channel });
    await owner.ok("chat.settings", { channel, guests: false });
    const ended = await guest.waitFor((f) => f[0] === "chat.unsubscribed");
    expect(ended[1]).toMatchObject({ channel });
    await m.settle();
    expect(await guest.errorCode("chat.subscribe", { channel })).toBe("chat.denied");
    await owner.ok("chat.settings", {
      channel,
      guests: true,
      required_claim: { name: "tier", value: "gold" },
    });
    const gold = await m.login(unique("gold"), "Gold", { tier: "gold" });
    const silver = await m.login(unique("silver"), "Silver", { tier: "silver" });
    await gold.ok("chat.join", { channel });
    expect(await silver.errorCode("chat.join", { channel })).toBe("chat.denied");
    guest.close();
  });

  it("a platform ban refuses login and every channel; a silence holds until reactivated", async () => {
    const { channel, fanName, fan } = await channelWithFan();
    const admin = await TestClient.login(m.url, {
      token: await m.token(unique("admin"), "Admin", { admin: true }),
    });
    await admin.ok("user.silence", { id: puppet(fanName) });
    expect(await send(fan, channel, "let me")).toMatchObject({ ok: false, error: { code: "chat.denied" } });
    await admin.ok("user.reactivate", { id: puppet(fanName) });
    expect((await send(fan, channel, "thanks")).ok).toBe(true);
    await admin.ok("user.ban", { id: puppet(fanName) });
    // Their open connection is told, then closed with a code that says not to come back.
    await fan.waitFor((f) => f[0] === "user.status" && (f[1] as { status: string }).status === "banned");
    expect((await fan.closed).code).toBe(4003);
    const again = await TestClient.connect(m.url);
    const reply = await again.authenticate({ token: await m.token(fanName, "Fan") });
    expect(reply[1]).toMatchObject({ code: "auth.denied" });
    again.close();
    admin.close();
  });
});
