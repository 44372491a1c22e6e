// Seed 003's live events: an owner marks a channel live; subscribers are told, the directory and the
// channel state show it, and Matrix gets it in the room's settings state.
import { afterAll, beforeAll, expect, it } from "vitest";
import { type Middle, puppet, startMiddle } from "../support/middle.ts";
import { unique } from "../support/parley.ts";

let m: Middle;
beforeAll(async () => {
  m = await startMiddle({ chat: { directory_refresh_ms: 0 } });
});
afterAll(async () => {
  await m?.stop();
});

it("an owner marks a channel live: pushed, in the state, the directory and the room's settings state", async () => {
  const channel = unique("stage");
  const owner = await m.login(unique("owner"), "Owner");
  await owner.ok("chat.join", { channel });
  const modName = unique("mod");
  const mod = await m.login(modName, "Mod");
  await mod.ok("chat.join", { channel });
  await owner.ok("chat.set_role", { channel, user: puppet(modName), role: "moderator" });
  const listener = await m.login(unique("listener"), "Listener");
  await listener.ok("chat.subscribe", { channel });

  // Only owners say a live event is on.
  expect(await mod.errorCode("chat.settings", { channel, live: true })).toBe("chat.denied");
  const pushed = listener.waitForNext((f) => f[0] === "chat.settings");
  const reply = await owner.ok("chat.settings", { channel, live: true });
  expect(reply.settings).toMatchObject({ live: true });
  expect((await pushed)[1]).toMatchObject({ channel, settings: { live: true } });
  const late = await m.login(unique("late"), "Late");
  expect((await late.ok("chat.subscribe", { channel })).state).toMatchObject({ settings: { live: true } });
  const directory = (await late.ok("chat.directory", { search: channel })).results as Array<{
    id: string;
    live?: boolean;
  }>;
  expect(directory).toEqual([expect.objectContaining({ id: channel, live: true })]);
  await m.settle();
  const state = m.fake.calls.filter(
    (call) => call.method === "setRoomState" && call.args[1] === "org.parley.settings",
  );
  expect(state.at(-1)?.args[2]).toMatchObject({ live: true });

  await owner.ok("chat.settings", { channel, live: false });
  const off = (await late.ok("chat.directory", { search: channel })).results as Array<{ live?: boolean }>;
  expect(off[0]?.live).toBeUndefined();
});
