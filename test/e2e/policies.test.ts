// Channel rules, slow mode, join policies, audiences, platform admins and the moderators'
// channel, each with native users, a Matrix moderator and a Matrix user.
import { describe, expect, it } from "vitest";
import { signToken } from "../../src/auth/jwt.ts";
import { bodyOf, TestClient } from "../support/client.ts";
import { chatFixture } from "../support/fixture.ts";
import { MatrixUser } from "../support/matrix-user.ts";
import { unique } from "../support/parley.ts";
import { expectLooksMissing } from "../support/privacy.ts";

const fixture = chatFixture();

async function stage(name: string) {
  const channel = unique(name);
  const dj = await fixture.login(unique("dj"), "DJ");
  const created = await dj.ok("chat.join", { channel });
  const roomId = (created.state as { room_id: string }).room_id;
  const fanName = unique("fan");
  const fan = await fixture.login(fanName, "Fan");
  const joined = await fan.ok("chat.join", { channel });
  return { channel, roomId, dj, fan, fanName, fanId: `@chat_${fanName}:localhost`, joined };
}
const send = (client: TestClient, channel: string, body: string) =>
  client.request("chat.send", { channel, event_type: "channel.message", content: { type: "text", body } });

describe("rules and slow mode", () => {
  it("rules show on join and must be accepted when required; changed rules ask again", async () => {
    const s = await stage("rules");
    await s.dj.ok("chat.settings", { channel: s.channel, rules: "Be kind.", rules_required: true });
    const pushed = await s.fan.waitFor((f) => f[0] === "chat.settings");
    expect(pushed[1]).toMatchObject({
      channel: s.channel,
      rules: "Be kind.",
      settings: { rules_required: true },
    });
    const newcomer = await fixture.login(unique("newcomer"), "Newcomer");
    const joined = await newcomer.ok("chat.join", { channel: s.channel });
    expect(joined.state).toMatchObject({ rules: "Be kind.", settings: { rules_required: true } });
    expect(await send(newcomer, s.channel, "hi")).toMatchObject({
      ok: false,
      error: { code: "channel.rules_not_accepted", rules: "Be kind." },
    });
    await newcomer.ok("chat.accept_rules", { channel: s.channel });
    expect((await send(newcomer, s.channel, "hi")).ok).toBe(true);
    expect((await send(s.dj, s.channel, "owners are exempt")).ok).toBe(true);
    await s.dj.ok("chat.send", {
      channel: s.channel,
      event_type: "channel.message",
      content: { type: "text", body: "/rules Be kind. No spoilers." },
    });
    expect(await send(newcomer, s.channel, "again?")).toMatchObject({
      ok: false,
      error: { code: "channel.rules_not_accepted" },
    });
  });

  it("slow mode limits native users with retry_after and removes Matrix users' too-fast posts", async () => {
    const s = await stage("slow");
    await fixture.carol.join(s.roomId);
    await s.dj.ok("chat.send", {
      channel: s.channel,
      event_type: "channel.message",
      content: { type: "text", body: "/slow 30" },
    });
    expect((await send(s.fan, s.channel, "first")).ok).toBe(true);
    const second = await send(s.fan, s.channel, "second");
    expect(second).toMatchObject({ ok: false, error: { code: "channel.slow_mode" } });
    const retry = (second as unknown as { error: { retry_after: number } }).error.retry_after;
    expect(retry).toBeGreaterThan(25_000);
    expect(retry).toBeLessThanOrEqual(30_000);
    expect((await send(s.dj, s.channel, "moderators are exempt")).ok).toBe(true);
    expect((await send(s.dj, s.channel, "twice")).ok).toBe(true);

    await fixture.parley.mirrored();
    await fixture.carol.sendText(s.roomId, "carol one");
    const tooFast = await fixture.carol.sendText(s.roomId, "carol two");
    await s.fan.waitForEvent((e) => bodyOf(e) === "carol one");
    // The bridge bot redacts the second one in Matrix, with a reason.
    const redaction = await fixture.carol.waitForEvent(
      (r) => r.event.type === "m.room.redaction" && (r.event as { redacts?: string }).redacts === tooFast,
    );
    expect(String(redaction.event.content.reason)).toContain("slow mode");
    await s.dj.say(s.channel, "marker");
    await s.fan.waitForEvent((e) => bodyOf(e) === "marker");
    expect(s.fan.events(s.channel).map(bodyOf)).not.toContain("carol two");
    await s.dj.ok("chat.settings", { channel: s.channel, slow_mode: 0 });
    expect((await send(s.fan, s.channel, "free")).ok).toBe(true);
  });
});

describe("join policies", () => {
  it("no guests, or a JWT claim: checked on join and subscribe, and re-checked when changed", async () => {
    const s = await stage("policy");
    const guest = await TestClient.login(fixture.parley.url(), { client_id: crypto.randomUUID() });
    await guest.ok("user.update", { profile: { display_name: "Guest" } });
    await guest.ok("chat.join", { channel: s.channel });
    const guestId = ((guest.received[0] as unknown[])[1] as { user: { id: string } }).user.id;

    await s.dj.ok("chat.settings", { channel: s.channel, guests: false });
    const dropped = await guest.waitFor((f) => f[0] === "chat.unsubscribed");
    expect(dropped[1]).toMatchObject({ channel: s.channel });
    await s.dj.waitForEvent(
      (e) =>
        e.event_type === "channel.member" &&
        (e.content as { membership: string; user: { id: string } }).membership === "leave" &&
        (e.content as { user: { id: string } }).user.id === guestId,
    );
    expect(await guest.errorCode("chat.join", { channel: s.channel })).toBe("chat.denied");
    expect(await guest.errorCode("chat.subscribe", { channel: s.channel })).toBe("chat.denied");
    guest.close();

    // Only logins with tier=vip.
    await s.dj.ok("chat.settings", {
      channel: s.channel,
      guests: true,
      required_claim: { name: "tier", value: "vip" },
    });
    await s.fan.waitFor((f) => f[0] === "chat.unsubscribed");
    const vipName = unique("vip");
    const vipToken = await signToken(fixture.parley.env.jwtSecret, {
      sub: vipName,
      name: "Vip",
      tier: "vip",
    } as { sub: string });
    const vip = await TestClient.login(fixture.parley.url(), { token: vipToken });
    await vip.ok("chat.join", { channel: s.channel });
    expect(await s.fan.errorCode("chat.subscribe", { channel: s.channel })).toBe("chat.denied");
    vip.close();
  });
});

describe("audiences", () => {
  it("vips hear only vips (and moderators); quiet listeners hear no messages", async () => {
    const s = await stage("audience");
    const vip1 = await fixture.login(unique("vip1"), "Vip One");
    const vip2 = await fixture.login(unique("vip2"), "Vip Two");
    await vip1.ok("chat.join", { channel: s.channel });
    await vip2.ok("chat.join", { channel: s.channel });
    const idOf = async (client: TestClient) =>
      (await client.ok("chat.subscribe", { channel: s.channel })).members as Array<{
        id: string;
        profile: { display_name: string };
      }>;
    const members = await idOf(vip1);
    const id = (name: string) => members.find((m) => m.profile.display_name === name)?.id as string;
    await s.dj.ok("chat.set_audience", { channel: s.channel, user: id("Vip One"), audience: "vip" });
    await s.dj.ok("chat.set_audience", { channel: s.channel, user: id("Vip Two"), audience: "vip" });
    await s.dj.ok("chat.set_audience", { channel: s.channel, user: s.fanId, audience: "quiet" });

    await vip1.say(s.channel, "vips only");
    await vip2.waitForEvent((e) => bodyOf(e) === "vips only");
    await s.dj.waitForEvent((e) => bodyOf(e) === "vips only");
    await s.dj.say(s.channel, "for everyone");
    await vip2.waitForEvent((e) => bodyOf(e) === "for everyone");
    const plain = await fixture.login(unique("plain"), "Plain");
    await plain.ok("chat.join", { channel: s.channel });
    await vip1.say(s.channel, "vips again");
    await s.dj.say(s.channel, "everyone again");
    await plain.waitForEvent((e) => bodyOf(e) === "everyone again");
    expect(plain.events(s.channel).map(bodyOf)).not.toContain("vips again");
    expect(s.fan.events(s.channel).filter((e) => e.event_type === "channel.message")).toEqual([]);
    // Fetch hears the same.
    const fetched = (await plain.ok("chat.fetch", { channel: s.channel })).results as Array<
      Record<string, unknown>
    >;
    expect(fetched.map(bodyOf)).toContain("everyone again");
    expect(fetched.map(bodyOf)).not.toContain("vips only");
  });
});

describe("platform admins and the moderators' channel", () => {
  it("admins silence, ban and reactivate across channels, and can listen unnoticed", async () => {
    const s = await stage("admin");
    await fixture.carol.join(s.roomId);
    // Parley knows Carol is in (so a silence reaches her there).
    await s.dj.waitForEvent((e) => e.sender === fixture.carol.userId);
    const admin = await fixture.loginAdmin();
    await admin.ok("chat.subscribe", { channel: s.channel });
    const members = (await s.dj.ok("chat.members", { channel: s.channel })) as {
      members: Array<{ id: string }>;
      online: string[];
    };
    expect(members.members.map((m) => m.id)).not.toContain(
      ((admin.received[0] as unknown[])[1] as { user: { id: string } }).user.id,
    );

    await admin.ok("user.silence", { id: s.fanId });
    expect(
      await s.fan.errorCode("chat.send", {
        channel: s.channel,
        event_type: "channel.message",
        content: { type: "text", body: "x" },
      }),
    ).toBe("chat.denied");
    await admin.ok("user.silence", { id: fixture.carol.userId });
    await fixture.parley.mirrored();
    await expect(fixture.carol.sendText(s.roomId, "silenced?")).rejects.toThrow();
    await admin.ok("user.reactivate", { id: fixture.carol.userId });
    await fixture.parley.mirrored();
    await fixture.carol.sendText(s.roomId, "not any more");
    await admin.ok("user.reactivate", { id: s.fanId });
    await s.fan.say(s.channel, "me neither");

    await admin.ok("user.ban", { id: s.fanId });
    await s.dj.waitForEvent(
      (e) => (e.content as { membership?: string; user?: { id: string } }).membership === "ban",
    );
    const again = await TestClient.connect(fixture.parley.url());
    const refused = await again.authenticate({ token: await fixture.parley.token(s.fanName) });
    expect(refused).toEqual(["error", expect.objectContaining({ code: "auth.denied" })]);
    await admin.ok("user.reactivate", { id: s.fanId });
    const back = await fixture.login(s.fanName);
    await expect
      .poll(() => back.request("chat.join", { channel: s.channel }).then((r) => r.ok), { timeout: 10_000 })
      .toBe(true);
    admin.close();
    again.close();
  });

  it("a private moderators' channel for the owner and moderators, with Element moderators invited", async () => {
    const s = await stage("modroom");
    const mona = await MatrixUser.register(fixture.parley.env.homeserverUrl, unique("mona"), "Mona");
    try {
      await mona.join(s.roomId);
      await s.dj.waitForEvent((e) => e.sender === mona.userId);
      await s.dj.ok("chat.set_role", { channel: s.channel, user: mona.userId, role: "moderator" });
      expect(await s.fan.errorCode("chat.mod_channel", { channel: s.channel })).toBe("chat.denied");
      const opened = await s.dj.ok("chat.mod_channel", { channel: s.channel });
      expect(opened.id).toBe(`${s.channel}.mods`);
      const modRoom = (opened.state as { room_id: string }).room_id;
      // Mona was invited and can join from Element; the fan cannot get in.
      await mona.join(modRoom);
      await s.dj.waitForEvent((e) => e.channel === `${s.channel}.mods` && e.sender === mona.userId);
      // To the fan it looks like a channel that does not exist, whatever the fan tries.
      await expectLooksMissing(s.fan, `${s.channel}.mods`, `${unique("none")}.mods`, mona.userId);
      await fixture.parley.mirrored();
      await expect(fixture.carol.join(modRoom)).rejects.toThrow();
      await s.dj.say(`${s.channel}.mods`, "team, the fan is trouble");
      await mona.waitForEvent(
        (r) => r.roomId === modRoom && r.event.content.body === "team, the fan is trouble",
      );
      // Opening it again reuses it.
      expect((await s.dj.ok("chat.mod_channel", { channel: s.channel })).id).toBe(opened.id);
    } finally {
      mona.stop();
    }
  });
});
