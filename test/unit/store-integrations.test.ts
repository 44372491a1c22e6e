// The server API's queries (keys, webhooks, closed channels, the directory), against both adapters.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Store } from "../../src/domain/ports/store.ts";
import { asChannelName, asRoomId, asUserId } from "../../src/protocol/ids.ts";
import { storeAdapters } from "../support/stores.ts";

const channel = (store: Store, name: string) =>
  store.insertChannel(asChannelName(name), asRoomId(`!${name}:x`), `#${name}:x`);

describe.each(storeAdapters())("$name integration queries", (adapter) => {
  beforeAll(() => adapter.setup(), 60_000);
  afterEach(() => adapter.closeAll());
  afterAll(() => adapter.teardown());

  it("API keys: stored, listed in order, revoked once", async () => {
    const { store } = await adapter.fresh();
    const key = {
      id: "0123456789ab",
      name: "CI",
      scope: "post" as const,
      secretHash: "ab".repeat(32),
      createdAt: 5,
      revokedAt: null,
    };
    await store.insertApiKey(key);
    await store.insertApiKey({ ...key, id: "ba9876543210", name: "Ops", scope: "admin", createdAt: 6 });
    expect(await store.apiKey(key.id)).toEqual(key);
    expect(await store.apiKey("ffffffffffff")).toBeUndefined();
    expect((await store.apiKeys()).map((k) => k.name)).toEqual(["CI", "Ops"]);
    expect(await store.revokeApiKey(key.id, 9)).toBe(true);
    expect(await store.revokeApiKey(key.id, 10)).toBe(false);
    expect((await store.apiKey(key.id))?.revokedAt).toBe(9);
  });

  it("webhooks: live ones per channel; a deleted one is gone for good", async () => {
    const { store } = await adapter.fresh();
    const a = await channel(store, "a");
    const b = await channel(store, "b");
    const hook = {
      id: "0123456789ab",
      channelId: a.id,
      name: "Bot",
      avatarUrl: null,
      secretHash: "cd".repeat(32),
      createdBy: asUserId("@chat_o:x"),
      createdAt: 1,
    };
    await store.insertWebhook(hook);
    expect(await store.webhook(hook.id)).toEqual(hook);
    expect(await store.webhooksOf(a.id)).toEqual([hook]);
    expect(await store.webhooksOf(b.id)).toEqual([]);
    expect(await store.deleteWebhook(b.id, hook.id, 2)).toBe(false);
    expect(await store.deleteWebhook(a.id, hook.id, 2)).toBe(true);
    expect(await store.webhook(hook.id)).toBeUndefined();
    expect(await store.webhooksOf(a.id)).toEqual([]);
  });

  it("the directory: open, non-private channels by name, searched and paged; closing hides one", async () => {
    const { store } = await adapter.fresh();
    for (const name of ["Zeta", "alpha", "beta_1", "dm.x", "alpha.mods", "mods.alpha", "hidden"])
      await channel(store, name);
    const hidden = await store.channelByName(asChannelName("hidden"));
    if (hidden) await store.setJoinRule(hidden.id, "invite");
    const beta = await store.channelByName(asChannelName("beta_1"));
    if (beta) await store.setTopic(beta.id, "Live DJ set");
    const names = async (query: Partial<Parameters<Store["directory"]>[0]>) =>
      (await store.directory({ limit: 10, includePrivate: false, ...query })).map((c) => c.name);
    expect(await names({})).toEqual(["Zeta", "alpha", "beta_1"]);
    expect(await names({ includePrivate: true })).toEqual(["Zeta", "alpha", "beta_1", "hidden"]);
    expect(await names({ limit: 2 })).toEqual(["Zeta", "alpha"]);
    expect(await names({ after: "alpha" })).toEqual(["beta_1"]);
    expect(await names({ search: "DJ" })).toEqual(["beta_1"]);
    expect(await names({ search: "ALPH" })).toEqual(["alpha"]);
    // LIKE's wildcards are literal in a search.
    expect(await names({ search: "_" })).toEqual(["beta_1"]);
    const alpha = await store.channelByName(asChannelName("alpha"));
    if (alpha) await store.closeChannel(alpha.id, 3);
    expect(await names({})).toEqual(["Zeta", "beta_1"]);
    expect((await store.channelByName(asChannelName("alpha")))?.closedAt).toBe(3);
  });
});
