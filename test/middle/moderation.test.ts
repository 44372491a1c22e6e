// Moderation through the domain and a real socket, with a fake homeserver: who may do what (every
// refusal), what reaches Matrix (power levels, kicks and bans with reasons), and what comes back.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestClient } from "../support/client.ts";
import { FakeMatrix } from "../support/fake-matrix.ts";
import { type Middle, puppet, startMiddle } from "../support/middle.ts";
import { unique } from "../support/parley.ts";

let m: Middle;
beforeAll(async () => {
  m = await startMiddle();
});
afterAll(async () => {
  await m?.stop();
});

interface Cast {
  channel: string;
  roomId: string;
  owner: TestClient;
  mod: TestClient;
  user: TestClient;
  names: { owner: string; mod: string; user: string };
}

/** A channel with its owner (who created it), a moderator and a plain user. */
async function cast(): Promise<Cast> {
  const channel = unique("mods");
  const names = { owner: unique("owner"), mod: unique("mod"), user: unique("user") };
  const owner = await m.login(names.owner, "Owner");
  const mod = await m.login(names.mod, "Mod");
  const user = await m.login(names.user, "User");
  const joined = await owner.ok("chat.join", { channel });
  await mod.ok("chat.join", { channel });
  await user.ok("chat.join", { channel });
  await owner.ok("chat.set_role", { channel, user: puppet(names.mod), role: "moderator" });
  await m.settle();
  return { channel, roomId: (joined.state as { room_id: string }).room_id, owner, mod, user, names };
}

const say = (client: TestClient, channel: string, body: string) =>
  client.request("chat.send", { channel, event_type: "channel.message", content: { type: "text", body } });

describe("roles and refusals", () => {
  it("the creator owns the channel from the room's first power levels", async () => {
    const c = await cast();
    expect(m.fake.room(c.roomId).powerLevels).toMatchObject({ users: { [puppet(c.names.owner)]: 100 } });
    const state = (await c.owner.ok("chat.subscribe", { channel: c.channel })).state as { role: string };
    expect(state.role).toBe("owner");
  });

  it("a plain user is refused every moderation action with chat.denied, and nothing reaches Matrix", async () => {
    const c = await cast();
    const target = puppet(c.names.mod);
    const before = m.fake.calls.length;
    for (const [action, payload] of [
      ["chat.kick", { channel: c.channel, user: target }],
      ["chat.ban", { channel: c.channel, user: target }],
      ["chat.unban", { channel: c.channel, user: target }],
      ["chat.timeout", { channel: c.channel, user: target, duration: 120 }],
      ["chat.untimeout", { channel: c.channel, user: target }],
      ["chat.set_role", { channel: c.channel, user: target, role: "user" }],
      ["chat.settings", { channel: c.channel, slow_mode: 10 }],
      ["chat.set_audience", { channel: c.channel, user: target, audience: "quiet" }],
      ["chat.mod_channel", { channel: c.channel }],
    ] as const) {
      expect(await c.user.errorCode(action, payload), action).toBe("chat.denied");
    }
    expect(m.fake.calls.slice(before).filter((call) => call.method !== "setTyping")).toEqual([]);
  });

  it("moderators cannot act on their equals or betters, nor change roles or policies", async () => {
    const c = await cast();
    const other = unique("mod2");
    const otherClient = await m.login(other, "Mod2");
    await otherClient.ok("chat.join", { channel: c.channel });
    await c.owner.ok("chat.set_role", { channel: c.channel, user: puppet(other), role: "moderator" });
    expect(await c.mod.errorCode("chat.kick", { channel: c.channel, user: puppet(other) })).toBe(
      "chat.denied",
    );
    expect(await c.mod.errorCode("chat.ban", { channel: c.channel, user: puppet(c.names.owner) })).toBe(
      "chat.denied",
    );
    expect(
      await c.mod.errorCode("chat.set_role", {
        channel: c.channel,
        user: puppet(c.names.user),
        role: "moderator",
      }),
    ).toBe("chat.denied");
    expect(await c.mod.errorCode("chat.settings", { channel: c.channel, guests: false })).toBe("chat.denied");
    // Slow mode is theirs to set.
    await c.mod.ok("chat.settings", { channel: c.channel, slow_mode: 5 });
  });

  it("a kick and a ban go to Matrix as the moderator's puppet with the reason, and come back as member events", async () => {
    const c = await cast();
    await c.mod.ok("chat.kick", { channel: c.channel, user: puppet(c.names.user), reason: "calm down" });
    await m.settle();
    const kick = c.owner
      .events(c.channel)
      .find((e) => e.event_type === "channel.member" && (e.content as { by?: string }).by);
    expect(kick).toMatchObject({
      sender: puppet(c.names.mod),
      content: {
        membership: "leave",
        user: { id: puppet(c.names.user) },
        reason: "calm down",
        by: puppet(c.names.mod),
      },
    });
    // Kicking someone not in the channel is refused here, without asking the homeserver.
    const before = m.fake.callsOf("moderate").length;
    expect(await c.mod.errorCode("chat.kick", { channel: c.channel, user: puppet(c.names.user) })).toBe(
      "chat.denied",
    );
    expect(await c.mod.errorCode("chat.unban", { channel: c.channel, user: puppet(c.names.user) })).toBe(
      "chat.denied",
    );
    expect(m.fake.callsOf("moderate")).toHaveLength(before);
    await c.mod.ok("chat.ban", { channel: c.channel, user: puppet(c.names.user), reason: "enough" });
    await m.settle();
    expect(await c.user.errorCode("chat.join", { channel: c.channel })).toBe("channel.banned");
    await c.mod.ok("chat.unban", { channel: c.channel, user: puppet(c.names.user) });
    await m.settle();
    await c.user.ok("chat.join", { channel: c.channel });
  });

  it("a timeout sets power level -1, refuses sends with its end, counts karma, and is lifted", async () => {
    const c = await cast();
    const result = await c.mod.ok("chat.timeout", {
      channel: c.channel,
      user: puppet(c.names.user),
      duration: 120,
      reason: "cool off",
    });
    expect(result).toMatchObject({ karma: -1 });
    expect(m.fake.room(c.roomId).powerLevels).toMatchObject({ users: { [puppet(c.names.user)]: -1 } });
    const refused = await say(c.user, c.channel, "let me talk");
    expect(refused).toMatchObject({ ok: false, error: { code: "channel.timed_out", until: result.until } });
    const announced = await c.owner.waitFor((f) => f[0] === "chat.moderation");
    expect(announced[1]).toMatchObject({
      action: "timeout",
      user: puppet(c.names.user),
      by: puppet(c.names.mod),
      reason: "cool off",
    });
    // Durations outside 120 s - 7 days are invalid.
    for (const duration of [60, 604_801]) {
      expect(
        await c.mod.errorCode("chat.timeout", { channel: c.channel, user: puppet(c.names.user), duration }),
      ).toBe("protocol.invalid_payload");
    }
    await c.mod.ok("chat.untimeout", { channel: c.channel, user: puppet(c.names.user) });
    // Without a duration: a mute until a moderator lifts it, -1 on Matrix meanwhile, said in the room.
    const mute = await c.mod.ok("chat.timeout", {
      channel: c.channel,
      user: puppet(c.names.user),
      reason: "spam",
    });
    expect(mute.until).toBeNull();
    const muted = await c.user.request("chat.send", {
      channel: c.channel,
      event_type: "channel.message",
      content: { type: "text", body: "still here?" },
    });
    expect(muted).toMatchObject({ ok: false, error: { code: "channel.timed_out", until: null } });
    await m.settle();
    expect(
      (m.fake.room(c.roomId).powerLevels as { users: Record<string, number> }).users[puppet(c.names.user)],
    ).toBe(-1);
    expect(
      m.fake.calls.some(
        (call) =>
          call.method === "sendMessage" && JSON.stringify(call.args).includes("until a moderator lifts it"),
      ),
    ).toBe(true);
    await c.mod.ok("chat.untimeout", { channel: c.channel, user: puppet(c.names.user) });
    expect(
      (m.fake.room(c.roomId).powerLevels as { users: Record<string, number> }).users[puppet(c.names.user)],
    ).toBeUndefined();
    expect((await say(c.user, c.channel, "thanks")).ok).toBe(true);
  });

  it("a role holds at once; a homeserver that slows down or is down gets it when it allows", async () => {
    const c = await cast();
    const level = () =>
      (m.fake.room(c.roomId).powerLevels as { users: Record<string, number> }).users[puppet(c.names.user)];
    m.fake.failNext("setPowerLevel", FakeMatrix.rateLimited(300));
    await c.owner.ok("chat.set_role", { channel: c.channel, user: puppet(c.names.user), role: "moderator" });
    // Parley already treats them as a moderator: they may kick.
    expect((await c.user.ok("chat.members", { channel: c.channel })).members).toContainEqual(
      expect.objectContaining({ id: puppet(c.names.user), role: "moderator" }),
    );
    expect(level()).toBeUndefined();
    await expect.poll(level, { timeout: 3_000 }).toBe(50);
    expect(m.fake.callsOf("setPowerLevel").length).toBeGreaterThanOrEqual(2);
    m.fake.unavailable = true;
    try {
      // A role for all channels with the homeserver gone: held, not half-done, not a crash.
      const all = await c.owner.ok("chat.set_role", {
        all_channels: true,
        user: puppet(c.names.user),
        role: "user",
      });
      expect(all.channels).toContain(c.channel);
      const state = (await c.user.ok("chat.subscribe", { channel: c.channel })).state as { role: string };
      expect(state.role).toBe("user");
      expect(level()).toBe(50);
    } finally {
      m.fake.unavailable = false;
    }
    await expect.poll(level, { timeout: 5_000 }).toBeUndefined();
  });
});

describe("when the homeserver answers oddly", () => {
  it("a timeout whose end the homeserver rate-limits is ended as soon as it allows", async () => {
    const c = await cast();
    await c.mod.ok("chat.timeout", { channel: c.channel, user: puppet(c.names.user), duration: 120 });
    await m.settle();
    m.fake.failNext("setPowerLevel", FakeMatrix.rateLimited(150));
    await c.mod.ok("chat.untimeout", { channel: c.channel, user: puppet(c.names.user) });
    const level = () =>
      (m.fake.room(c.roomId).powerLevels as { users: Record<string, number> }).users[puppet(c.names.user)];
    expect(level()).toBe(-1);
    // Natively the timeout is over already.
    expect((await say(c.user, c.channel, "free")).ok).toBe(true);
    await expect.poll(level, { timeout: 3_000 }).toBeUndefined();
  });

  it("a delete the homeserver refuses for good is withdrawn: the message is back, the sender told why", async () => {
    const c = await cast();
    const event = await c.user.say(c.channel, "soon gone");
    await m.settle();
    m.fake.failNext("redact", FakeMatrix.refused(404, "M_NOT_FOUND"));
    const deleted = await c.user.ok("chat.send", {
      channel: c.channel,
      event_type: "channel.message",
      content: { type: "deleted" },
      replaces: event.event_id,
    });
    const failed = await c.user.waitFor((f) => f[0] === "chat.send.failed");
    expect(failed[1]).toMatchObject({
      channel: c.channel,
      event_id: (deleted.event as { event_id: number }).event_id,
      code: "chat.unknown_event",
    });
    // The withdrawal: the message's content again, as an edit everyone gets.
    const restored = await c.owner.waitFor(
      (f) =>
        f[0] === "chat.event" &&
        (f[1] as { replaces?: number }).replaces === event.event_id &&
        (f[1] as { content: { type: string } }).content.type === "text",
    );
    expect((restored[1] as { content: { body: string } }).content.body).toBe("soon gone");
    const page = await c.owner.ok("chat.fetch", { channel: c.channel, count: 50 });
    const original = (page.results as Array<{ event_id: number; content: { body?: string } }>).find(
      (e) => e.event_id === event.event_id,
    );
    expect(original?.content.body).toBe("soon gone");
  });
});

describe("audiences", () => {
  it("a quiet listener hears no messages; a vip is heard only by vips and moderators", async () => {
    const c = await cast();
    const vip = unique("vip");
    const vipClient = await m.login(vip, "Vip");
    await vipClient.ok("chat.join", { channel: c.channel });
    const plain = await m.login(unique("plain"), "Plain");
    await plain.ok("chat.join", { channel: c.channel });
    await c.mod.ok("chat.set_audience", {
      channel: c.channel,
      user: puppet(c.names.user),
      audience: "quiet",
    });
    await c.mod.ok("chat.set_audience", { channel: c.channel, user: puppet(vip), audience: "vip" });
    await say(vipClient, c.channel, "vip only");
    await say(c.owner, c.channel, "for all");
    await c.mod.waitForEvent((e) => (e.content as { body?: string }).body === "for all");
    const bodies = (client: TestClient) =>
      client
        .events(c.channel)
        .map((e) => (e.content as { body?: string }).body)
        .filter(Boolean);
    await plain.waitForEvent((e) => (e.content as { body?: string }).body === "for all");
    expect(bodies(c.mod)).toEqual(["vip only", "for all"]);
    expect(bodies(plain)).toEqual(["for all"]);
    expect(bodies(c.user)).toEqual([]);
  });
});
