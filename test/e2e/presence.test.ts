// Presence and do-not-disturb (PROTOCOL.md section 9) with a real Synapse: native statuses reach
// subscribers who asked and Matrix (the puppet's presence), Matrix users' presence reaches native
// clients, and dnd keeps notifications and new direct channels away, on both sides.
import { describe, expect, it } from "vitest";
import type { TestClient } from "../support/client.ts";
import { chatFixture } from "../support/fixture.ts";
import { unique } from "../support/parley.ts";

const fixture = chatFixture();

const presencePush = (client: TestClient, userId: string, status: string) =>
  client.waitFor(
    (f) => f[0] === "chat.presence" && (f[1] as { users: Record<string, string> }).users[userId] === status,
    15_000,
    `chat.presence ${userId} ${status}`,
  );

async function matrixPresenceOf(userId: string): Promise<{ presence: string; status_msg?: string }> {
  return (await fixture.carol.client.doRequest(
    "GET",
    `/_matrix/client/v3/presence/${encodeURIComponent(userId)}/status`,
  )) as { presence: string; status_msg?: string };
}

async function until<T>(read: () => Promise<T>, ok: (value: T) => boolean, what: string): Promise<T> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe("presence", () => {
  it("statuses reach subscribers who asked, chat.members and Matrix; Matrix users' presence comes in", async () => {
    const channel = unique("lounge");
    const aliceName = unique("alice");
    const aliceId = `@chat_${aliceName}:localhost`;
    const alice = await fixture.login(aliceName, "Alice");
    const joined = await alice.ok("chat.join", { channel });
    const watcher = await fixture.login(unique("watcher"), "Watcher");
    await watcher.ok("chat.subscribe", { channel, presence: true });
    const quiet = await fixture.login(unique("quiet"), "Quiet");
    await quiet.ok("chat.subscribe", { channel });
    await fixture.parley.mirrored();
    await fixture.carol.join((joined.state as { alias: string }).alias);

    await alice.ok("user.presence", { status: "away" });
    await presencePush(watcher, aliceId, "away");
    const members = await watcher.ok("chat.members", { channel });
    expect((members.presence as Record<string, string>)[aliceId]).toBe("away");
    // Each member says when they joined.
    const alicesEntry = (members.members as Array<{ id: string; joined_at: number }>).find(
      (m) => m.id === aliceId,
    );
    expect(alicesEntry?.joined_at).toBeGreaterThan(Date.now() - 60_000);
    await until(
      () => matrixPresenceOf(aliceId),
      (p) => p.presence === "unavailable",
      "alice on Matrix",
    );

    await alice.ok("user.presence", { status: "invisible" });
    await presencePush(watcher, aliceId, "offline");
    await until(
      () => matrixPresenceOf(aliceId),
      (p) => p.presence === "offline",
      "invisible alice on Matrix",
    );
    await alice.ok("user.presence", { status: "online" });
    await presencePush(watcher, aliceId, "online");

    // Carol (Matrix) goes away in her client: native subscribers see it. (Her client stops
    // syncing first: a sync would say "online" again.)
    fixture.carol.client.stop();
    await fixture.carol.client.doRequest(
      "PUT",
      `/_matrix/client/v3/presence/${encodeURIComponent(fixture.carol.userId)}/status`,
      null,
      { presence: "unavailable" },
    );
    await presencePush(watcher, fixture.carol.userId, "away");
    await fixture.carol.client.start();
    // Only the subscriber who asked got presence pushes.
    expect(quiet.received.some((f) => f[0] === "chat.presence")).toBe(false);
  });
});

describe("do not disturb", () => {
  it("holds notifications and new direct channels, native and Matrix alike", async () => {
    const restName = unique("resting");
    const restId = `@chat_${restName}:localhost`;
    const resting = await fixture.login(restName, "Resting");
    // Matrix shows presence to those who share a room.
    const channel = unique("gig");
    const joined = await resting.ok("chat.join", { channel });
    await fixture.parley.mirrored();
    await fixture.carol.join((joined.state as { alias: string }).alias);
    await resting.ok("user.presence", { status: "dnd" });
    await until(
      () => matrixPresenceOf(restId),
      (p) => p.presence === "unavailable" && p.status_msg === "Do not disturb",
      "dnd on Matrix",
    );
    const friend = await fixture.login(unique("friend"), "Friend");
    expect(await friend.errorCode("chat.direct.create", { users: [restId] })).toBe("user.do_not_disturb");

    const invited = await fixture.carol.client.createRoom({
      preset: "trusted_private_chat",
      is_direct: true,
      invite: [restId],
    });
    const declined = await fixture.carol.waitForEvent(
      (r) =>
        r.roomId === invited &&
        r.event.type === "m.room.member" &&
        r.event.state_key === restId &&
        r.event.content.membership === "leave",
    );
    expect(String(declined.event.content.reason)).toContain("does not want to be disturbed");

    // A mention in a channel they are in is counted, not pushed.
    await friend.ok("chat.join", { channel });
    await friend.ok("chat.send", {
      channel,
      event_type: "channel.message",
      content: { type: "text", body: `ping ${restId}` },
    });
    await resting.waitForEvent((e) => (e.content as { body?: string }).body === `ping ${restId}`);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(resting.received.some((f) => f[0] === "chat.notification")).toBe(false);
    // Back from dnd: a new direct channel works again.
    await resting.ok("user.presence", { status: "online" });
    await friend.ok("chat.direct.create", { users: [restId] });
  });
});
