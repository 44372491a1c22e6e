// Moderation across both worlds, with a native owner (the DJ), a native user (a fan), a Matrix
// moderator (Mona, in Element) and a Matrix user (Carol): roles, kicks, bans, timeouts, and that
// no action is possible without the right role.
import Database from "better-sqlite3";
import { beforeAll, describe, expect, it } from "vitest";
import { bodyOf, type TestClient } from "../support/client.ts";
import { chatFixture } from "../support/fixture.ts";
import { MatrixUser } from "../support/matrix-user.ts";
import { unique } from "../support/parley.ts";

const fixture = chatFixture();
let mona: MatrixUser;

beforeAll(async () => {
  mona = await MatrixUser.register(fixture.parley.env.homeserverUrl, unique("mona"), "Mona");
  return () => mona.stop();
});

interface Stage {
  channel: string;
  roomId: string;
  dj: TestClient;
  djId: string;
  fan: TestClient;
  fanId: string;
  fanName: string;
}

async function stage(name: string): Promise<Stage> {
  const channel = unique(name);
  const dj = await fixture.login(unique("dj"), "DJ");
  const created = await dj.ok("chat.join", { channel });
  const roomId = (created.state as { room_id: string }).room_id;
  const djId = (created.members as Array<{ id: string }>)[0]?.id as string;
  const fanName = unique("fan");
  const fan = await fixture.login(fanName, "Fan");
  await fan.ok("chat.join", { channel });
  const fanId = `@chat_${fanName}:localhost`;
  await fixture.carol.join(roomId);
  await mona.join(roomId);
  await dj.waitForEvent((e) => e.sender === mona.userId);
  return { channel, roomId, dj, djId, fan, fanId, fanName };
}

const powerLevelOf = async (user: MatrixUser, roomId: string, userId: string) => {
  // Native moderation reaches the room through the outbox.
  await fixture.parley.mirrored();
  const levels = (await user.client.getRoomStateEvent(roomId, "m.room.power_levels", "")) as {
    users?: Record<string, number>;
  };
  return levels.users?.[userId] ?? 0;
};
const membershipEvent = (membership: string, userId: string) => (e: Record<string, unknown>) =>
  e.event_type === "channel.member" &&
  (e.content as { membership: string; user: { id: string } }).membership === membership &&
  (e.content as { user: { id: string } }).user.id === userId;

describe("roles", () => {
  it("the creator owns the channel; owners appoint moderators, in one channel or all they own", async () => {
    const s = await stage("roles");
    const mine = await s.dj.ok("chat.subscribe", { channel: s.channel });
    expect((mine.state as { role: string }).role).toBe("owner");
    expect((await s.fan.ok("chat.subscribe", { channel: s.channel })).state).toMatchObject({ role: "user" });
    await s.dj.ok("chat.set_role", { channel: s.channel, user: mona.userId, role: "moderator" });
    expect(await powerLevelOf(fixture.carol, s.roomId, mona.userId)).toBe(50);
    const members = (await s.dj.ok("chat.members", { channel: s.channel })).members as Array<{
      id: string;
      role: string;
    }>;
    expect(Object.fromEntries(members.map((m) => [m.id, m.role]))).toMatchObject({
      [s.djId]: "owner",
      [s.fanId]: "user",
      [mona.userId]: "moderator",
      [fixture.carol.userId]: "user",
    });
    // The slash commands do the same.
    expect(
      await s.dj.ok("chat.send", {
        channel: s.channel,
        event_type: "channel.message",
        content: { type: "text", body: `/mod @${s.fanName}` },
      }),
    ).toEqual({ command: "mod" });
    expect(await powerLevelOf(fixture.carol, s.roomId, s.fanId)).toBe(50);
    await s.dj.ok("chat.send", {
      channel: s.channel,
      event_type: "channel.message",
      content: { type: "text", body: `/unmod ${s.fanId}` },
    });
    expect(await powerLevelOf(fixture.carol, s.roomId, s.fanId)).toBe(0);

    // A second channel of the DJ: appoint the fan everywhere at once.
    const second = unique("roles2");
    await s.dj.ok("chat.join", { channel: second });
    const all = await s.dj.ok("chat.set_role", { all_channels: true, user: s.fanId, role: "moderator" });
    expect((all.channels as string[]).sort()).toEqual([s.channel, second].sort());
    expect(((await s.fan.ok("chat.subscribe", { channel: second })).state as { role: string }).role).toBe(
      "moderator",
    );

    // A topic set in Element (by a moderator there) is the channel's state.topic.
    await fixture.parley.mirrored();
    await mona.client.sendStateEvent(s.roomId, "m.room.topic", "", { topic: "Tonight: DJ Koze" });
    await expect
      .poll(
        async () =>
          ((await s.dj.ok("chat.subscribe", { channel: s.channel })).state as { topic: string | null }).topic,
      )
      .toBe("Tonight: DJ Koze");
  });

  it("no moderation action is possible without the right role", async () => {
    const s = await stage("denied");
    const target = { channel: s.channel, user: s.djId };
    const attempts: Array<[string, Record<string, unknown>]> = [
      ["chat.kick", target],
      ["chat.ban", target],
      ["chat.unban", target],
      ["chat.timeout", { ...target, duration: 120 }],
      ["chat.untimeout", target],
      ["chat.set_role", { ...target, user: s.fanId, role: "owner" }],
      ["chat.settings", { channel: s.channel, slow_mode: 5 }],
      ["chat.settings", { channel: s.channel, rules: "mine now" }],
      ["chat.set_audience", { ...target, audience: "quiet" }],
      ["chat.mod_channel", { channel: s.channel }],
      ["user.ban", { id: s.djId }],
      ["user.silence", { id: s.djId }],
      ["user.reactivate", { id: s.djId }],
    ];
    for (const [action, payload] of attempts)
      expect(await s.fan.errorCode(action, payload), action).toBe("chat.denied");
    for (const body of [
      "/kick @x:localhost",
      "/ban @x:localhost",
      "/timeout @x:localhost 5m",
      "/slow 10",
      "/rules mine",
      `/mod ${s.fanId}`,
    ]) {
      expect(
        await s.fan.errorCode("chat.send", {
          channel: s.channel,
          event_type: "channel.message",
          content: { type: "text", body },
        }),
        body,
      ).toBe("chat.denied");
    }
    // Against someone below the fan (Carol, timed out at -1) only the missing role stops them.
    await s.dj.ok("chat.timeout", { channel: s.channel, user: fixture.carol.userId, duration: 120 });
    const below = { channel: s.channel, user: fixture.carol.userId };
    for (const [action, payload] of [
      ["chat.kick", below],
      ["chat.ban", below],
      ["chat.timeout", { ...below, duration: 120 }],
      ["chat.untimeout", below],
    ] as Array<[string, Record<string, unknown>]>) {
      expect(await s.fan.errorCode(action, payload), `${action} on a lower user`).toBe("chat.denied");
    }
    expect((await s.dj.ok("chat.members", { channel: s.channel })).members).toEqual(
      expect.arrayContaining([expect.objectContaining({ id: fixture.carol.userId })]),
    );
    await s.dj.ok("chat.untimeout", below);
    // A moderator cannot act on the owner either, and an owner-only setting needs the owner.
    await s.dj.ok("chat.set_role", { channel: s.channel, user: s.fanId, role: "moderator" });
    expect(await s.fan.errorCode("chat.kick", target)).toBe("chat.denied");
    expect(await s.fan.errorCode("chat.settings", { channel: s.channel, guests: false })).toBe("chat.denied");
    // Nothing changed.
    const after = await s.dj.ok("chat.subscribe", { channel: s.channel });
    expect(after.state).toMatchObject({
      role: "owner",
      rules: null,
      settings: { slow_mode: 0, guests: true },
    });
    expect((after.members as unknown[]).length).toBe(4);
  });
});

describe("kick, ban, unban", () => {
  it("native moderation shows in Element with reasons, Element moderation binds native users", async () => {
    const s = await stage("kick");
    await s.dj.ok("chat.kick", { channel: s.channel, user: s.fanId, reason: "spam" });
    const kicked = await s.fan.waitForEvent(membershipEvent("leave", s.fanId));
    expect(kicked.content).toMatchObject({ by: s.djId, reason: "spam" });
    const onElement = await fixture.carol.waitForEvent(
      (r) =>
        r.roomId === s.roomId &&
        r.event.type === "m.room.member" &&
        r.event.state_key === s.fanId &&
        r.event.content.membership === "leave",
    );
    expect(onElement.event).toMatchObject({ sender: s.djId, content: { reason: "spam" } });
    expect(
      await s.fan.errorCode("chat.send", {
        channel: s.channel,
        event_type: "channel.message",
        content: { type: "text", body: "hi" },
      }),
    ).toBe("chat.denied");
    await s.fan.ok("chat.join", { channel: s.channel }); // a kick is not a ban

    // The DJ bans Carol (a Matrix user) natively: Matrix enforces it.
    await s.dj.ok("chat.ban", { channel: s.channel, user: fixture.carol.userId, reason: "trolling" });
    const banned = await s.dj.waitForEvent(membershipEvent("ban", fixture.carol.userId));
    expect(banned.content).toMatchObject({ by: s.djId, reason: "trolling" });
    await fixture.parley.mirrored();
    await expect(fixture.carol.join(s.roomId)).rejects.toThrow();

    // Mona bans the fan from Element: the native fan is bound by it.
    await s.dj.ok("chat.set_role", { channel: s.channel, user: mona.userId, role: "moderator" });
    await fixture.parley.mirrored();
    await mona.client.banUser(s.fanId, s.roomId, "from element");
    const elementBan = await s.fan.waitForEvent(membershipEvent("ban", s.fanId));
    expect(elementBan.content).toMatchObject({ by: mona.userId, reason: "from element" });
    expect(await s.fan.errorCode("chat.join", { channel: s.channel })).toBe("channel.banned");
    expect(
      await s.fan.errorCode("chat.send", {
        channel: s.channel,
        event_type: "channel.message",
        content: { type: "text", body: "let me in" },
      }),
    ).toBe("channel.banned");

    // Unban, natively, by slash command.
    await s.dj.ok("chat.send", {
      channel: s.channel,
      event_type: "channel.message",
      content: { type: "text", body: `/unban ${s.fanId}` },
    });
    await expect
      .poll(() => s.fan.request("chat.join", { channel: s.channel }).then((r) => r.ok), { timeout: 10_000 })
      .toBe(true);
    await s.fan.say(s.channel, "back again");
  });
});

describe("timeouts", () => {
  it("bind native and Matrix users, end early on request, add karma, and end by themselves after a restart", async () => {
    const s = await stage("timeout");
    const timeout = await s.dj.ok("chat.timeout", {
      channel: s.channel,
      user: s.fanId,
      duration: 120,
      reason: "calm down",
    });
    expect(timeout.until as number).toBeGreaterThan(Date.now() + 110_000);
    const pushed = await s.fan.waitFor((f) => f[0] === "chat.moderation");
    expect(pushed[1]).toMatchObject({
      channel: s.channel,
      action: "timeout",
      user: s.fanId,
      by: s.djId,
      reason: "calm down",
    });
    expect(pushed[1]).not.toHaveProperty("karma");
    // Karma is for moderators: in the timeout reply and in their member list, not for everyone.
    expect(timeout.karma).toBe(-1);
    expect(
      ((await s.dj.ok("chat.members", { channel: s.channel })).karma as Record<string, number>)[s.fanId],
    ).toBe(-1);
    expect(await s.fan.ok("chat.members", { channel: s.channel })).not.toHaveProperty("karma");
    const refused = await s.fan.request("chat.send", {
      channel: s.channel,
      event_type: "channel.message",
      content: { type: "text", body: "but" },
    });
    expect(refused).toMatchObject({ ok: false, error: { code: "channel.timed_out", until: timeout.until } });
    expect(await powerLevelOf(fixture.carol, s.roomId, s.fanId)).toBe(-1);
    await s.dj.ok("chat.untimeout", { channel: s.channel, user: s.fanId });
    expect(await powerLevelOf(fixture.carol, s.roomId, s.fanId)).toBe(0);
    await s.fan.say(s.channel, "sorry");

    // A Matrix user is bound by the homeserver itself.
    await s.dj.ok("chat.send", {
      channel: s.channel,
      event_type: "channel.message",
      content: { type: "text", body: `/timeout ${fixture.carol.userId} 2m too loud` },
    });
    await fixture.parley.mirrored();
    await expect(fixture.carol.sendText(s.roomId, "can I?")).rejects.toThrow(/M_FORBIDDEN|power/);
    await s.dj.ok("chat.untimeout", { channel: s.channel, user: fixture.carol.userId });
    await fixture.parley.mirrored();
    await fixture.carol.sendText(s.roomId, "yes I can");
    await s.dj.waitForEvent((e) => bodyOf(e) === "yes I can");

    // A second timeout of the fan ends by itself, also across a restart (its end is made near).
    await s.dj.ok("chat.timeout", { channel: s.channel, user: s.fanId, duration: 120 });
    await fixture.parley.restart();
    const db = new Database(fixture.parley.config.store.sqlitePath);
    db.prepare("UPDATE timeouts SET until = ? WHERE user_id = ?").run(Date.now() + 1_500, s.fanId);
    db.close();
    await fixture.parley.restart();
    await expect.poll(() => powerLevelOf(fixture.carol, s.roomId, s.fanId), { timeout: 15_000 }).toBe(0);
    const fanAgain = await fixture.login(s.fanName);
    await fanAgain.say(s.channel, "free again");
    const karma = new Database(fixture.parley.config.store.sqlitePath, { readonly: true });
    expect(karma.prepare("SELECT timeouts FROM karma WHERE user_id = ?").get(s.fanId)).toEqual({
      timeouts: 2,
    });
    karma.close();
  });
});
