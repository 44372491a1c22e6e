// Moderation state, direct channels and personal controls, against every store adapter.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { asChannelName, asRoomId, asUserId } from "../../src/protocol/ids.ts";
import { storeAdapters } from "../support/stores.ts";

const alice = asUserId("@chat_alice:x");
const bob = asUserId("@chat_bob:x");
const carol = asUserId("@Carol:x");

describe.each(storeAdapters())("$name moderation and direct queries", (adapter) => {
  beforeAll(() => adapter.setup(), 60_000);
  afterEach(() => adapter.closeAll());
  afterAll(() => adapter.teardown());

  const channels = async () => {
    const { store } = await adapter.fresh();
    const a = await store.insertChannel(asChannelName("a"), asRoomId("!a:x"), "#a:x");
    const mod = await store.insertChannel(asChannelName("a_mods"), asRoomId("!m:x"), "#m:x");
    return { store, a: a.id, mod: mod.id };
  };

  it("settings: defaults, patches, and a rules version that grows only when the rules change", async () => {
    const { store, a, mod } = await channels();
    const defaults = {
      slowMode: 0,
      rules: null,
      rulesRequired: false,
      rulesVersion: 0,
      guests: true,
      requiredClaim: null,
      parentChannelId: null,
      mediaReview: "off",
      live: false,
    };
    expect(await store.settings(a)).toEqual(defaults);
    // A live event on, and off again: nothing else moves.
    expect(await store.updateSettings(a, { live: true })).toEqual({ ...defaults, live: true });
    expect(await store.updateSettings(a, { live: false })).toEqual(defaults);
    const claim = { name: "tier", value: "gold" };
    const patched = await store.updateSettings(a, {
      rules: "be nice",
      rulesRequired: true,
      requiredClaim: claim,
    });
    expect(patched).toEqual({
      ...defaults,
      rules: "be nice",
      rulesRequired: true,
      rulesVersion: 1,
      requiredClaim: claim,
    });
    expect(await store.settings(a)).toEqual(patched);
    expect(
      (await store.updateSettings(a, { rules: "be nice", slowMode: 5, guests: false })).rulesVersion,
    ).toBe(1);
    const cleared = await store.updateSettings(a, { rules: null, requiredClaim: null });
    expect(cleared).toEqual({
      ...patched,
      rules: null,
      rulesVersion: 2,
      slowMode: 5,
      guests: false,
      requiredClaim: null,
    });
    const reviewed = await store.updateSettings(a, { mediaReview: "before" });
    expect(reviewed).toEqual({ ...cleared, mediaReview: "before" });
    expect(await store.settings(a)).toEqual(reviewed);
    expect((await store.updateSettings(a, { slowMode: 1 })).mediaReview).toBe("before");
    expect((await store.updateSettings(a, { mediaReview: "off" })).mediaReview).toBe("off");
    expect(await store.modChannelOf(a)).toBeUndefined();
    await store.updateSettings(mod, { parentChannelId: a });
    expect((await store.modChannelOf(a))?.id).toBe(mod);
  });

  it("settings: patches made at once all land", async () => {
    const { store, a } = await channels();
    await Promise.all([
      store.updateSettings(a, { rules: "one" }),
      store.updateSettings(a, { slowMode: 3 }),
      store.updateSettings(a, { guests: false }),
      store.updateSettings(a, { rules: "two" }),
    ]);
    const settings = await store.settings(a);
    expect(settings).toMatchObject({ slowMode: 3, guests: false, rulesVersion: 2 });
    expect(["one", "two"]).toContain(settings.rules);
  });

  it("rules, timeouts, karma, audiences, status and claims", async () => {
    const { store, a, mod } = await channels();
    expect(await store.acceptedRulesVersion(a, alice)).toBeUndefined();
    await store.acceptRules(a, alice, 1);
    await store.acceptRules(a, alice, 2);
    expect(await store.acceptedRulesVersion(a, alice)).toBe(2);

    const timeout = { channelId: a, userId: bob, until: 500, previousLevel: 50, by: alice, reason: "spam" };
    await store.putTimeout(timeout);
    // A second timeout extends the first and keeps the level to restore.
    await store.putTimeout({ ...timeout, until: 900, previousLevel: 0, reason: null });
    await store.putTimeout({ ...timeout, channelId: mod, until: 100 });
    expect(await store.timeout(a, bob)).toEqual({ ...timeout, until: 900, reason: null });
    expect((await store.allTimeouts()).map((t) => t.until)).toEqual([100, 900]);
    expect((await store.channelTimeouts(a)).map((t) => [t.channelId, t.until])).toEqual([[a, 900]]);
    expect((await store.channelTimeouts(mod)).map((t) => [t.channelId, t.until])).toEqual([[mod, 100]]);
    // A timer that read the first end does not end the extended timeout.
    expect(await store.removeTimeout(a, bob, 500)).toBe(false);
    expect(await store.timeout(a, bob)).toBeDefined();
    expect(await store.removeTimeout(mod, bob, 100)).toBe(true);
    expect(await store.removeTimeout(a, bob)).toBe(true);
    expect(await store.removeTimeout(a, bob)).toBe(false);
    expect(await store.timeout(a, bob)).toBeUndefined();

    expect(await store.karma(bob)).toBe(-0);
    expect(await store.addKarma(bob)).toBe(-1);
    expect(await store.addKarma(bob)).toBe(-2);
    expect(await store.karma(bob)).toBe(-2);

    await store.setAudience(a, bob, "mods");
    await store.setAudience(a, alice, "vip");
    await store.setAudience(a, carol, "x");
    await store.setAudience(a, carol, null);
    expect([...(await store.audiences(a)).entries()]).toEqual([
      [alice, "vip"],
      [bob, "mods"],
    ]);

    expect(await store.userStatus(bob)).toEqual({ banned: false, silenced: false });
    await store.setUserStatus(bob, { banned: true, silenced: false });
    await store.setUserStatus(bob, { banned: true, silenced: true });
    expect(await store.userStatus(bob)).toEqual({ banned: true, silenced: true });

    expect(await store.claims(alice)).toBeUndefined();
    await store.upsertNativeUser({ userId: alice, localpart: "alice", isGuest: false });
    expect(await store.claims(alice)).toBeUndefined();
    await store.setClaims(alice, { tier: "gold", n: 1 });
    expect(await store.claims(alice)).toEqual({ tier: "gold", n: 1 });
  });

  it("direct members are replaced as a set; blocks and ignores", async () => {
    const { store, a } = await channels();
    await store.setDirectMembers(a, [bob, alice]);
    expect(await store.directMembers(a)).toEqual([alice, bob]);
    await store.setDirectMembers(a, [carol, bob]);
    expect(await store.directMembers(a)).toEqual([carol, bob]);
    await store.setDirectMembers(a, []);
    expect(await store.directMembers(a)).toEqual([]);
    // Replacements at once: one set wins whole.
    const sets = [[alice, bob], [carol], [bob], [carol, alice]];
    for (let round = 0; round < 5; round++) {
      await Promise.all(sets.map((set) => store.setDirectMembers(a, set)));
      expect(sets.map((set) => [...set].sort())).toContainEqual(await store.directMembers(a));
    }
    await store.setDirectMembers(a, []);

    await store.setControl(alice, carol, "ignore", true);
    await new Promise((resolve) => setTimeout(resolve, 2));
    await store.setControl(alice, bob, "ignore", true);
    await store.setControl(alice, bob, "ignore", true);
    await store.setControl(alice, bob, "block", true);
    await store.setControl(carol, bob, "ignore", true);
    expect(await store.controlled(alice, "ignore")).toEqual([carol, bob]);
    expect(await store.controlled(alice, "block")).toEqual([bob]);
    expect(await store.controllersOf(bob, "ignore")).toEqual([carol, alice]);
    await store.setControl(alice, bob, "ignore", false);
    expect(await store.controlled(alice, "ignore")).toEqual([carol]);
  });
});
