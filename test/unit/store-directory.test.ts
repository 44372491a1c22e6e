// The protocol directory's queries (chat.directory, user.list.search), against both adapters: the
// listed channels and their member counts (kept by triggers), online counts per channel, and whom
// a user search may find.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Store } from "../../src/domain/ports/store.ts";
import { asChannelName, asRoomId, asUserId, type UserId } from "../../src/protocol/ids.ts";
import { storeAdapters } from "../support/stores.ts";

const channel = (store: Store, name: string) =>
  store.insertChannel(asChannelName(name), asRoomId(`!${name}:x`), `#${name}:x`);
const profile = (name: string | null) => ({ display_name: name, avatar_url: null });
const join = (
  store: Store,
  channelId: number,
  user: UserId,
  name: string | null,
  at = 1,
  membership = "join",
) =>
  store.setMember({
    channelId,
    userId: user,
    membership: membership as "join",
    profile: profile(name),
    at,
  });
const u = (name: string) => asUserId(`@${name}:x`);

describe.each(storeAdapters())("$name directory queries", (adapter) => {
  beforeAll(() => adapter.setup(), 60_000);
  afterEach(() => adapter.closeAll());
  afterAll(() => adapter.teardown());

  it("lists public, open channels that allow guests, with member counts that follow joins and leaves", async () => {
    const { store } = await adapter.fresh();
    const ids: Record<string, number> = {};
    for (const name of ["open", "invite", "noguests", "closed", "dm.x", "open.mods", "mods.x", "child"])
      ids[name] = (await channel(store, name)).id;
    await store.setJoinRule(ids.invite as number, "invite");
    await store.updateSettings(ids.noguests as number, { guests: false });
    await store.closeChannel(ids.closed as number, 5);
    await store.updateSettings(ids.child as number, { parentChannelId: ids.open as number });
    await store.setTopic(ids.open as number, "Jazz");
    const open = ids.open as number;
    await join(store, open, u("a"), "A");
    await join(store, open, u("b"), "B");
    await join(store, open, u("c"), "C");
    await join(store, open, u("c"), "C", 2); // again: still one
    await join(store, open, u("b"), "B", 3, "leave");
    await join(store, open, u("d"), "D", 3, "ban");
    expect(await store.listedChannels()).toEqual([
      { id: open, name: "open", topic: "Jazz", members: 2, live: false },
    ]);
    await join(store, open, u("b"), "B", 4);
    expect((await store.listedAmong([open, ids.invite as number]))[0]?.members).toBe(3);
    expect(await store.listedAmong([ids.invite as number, ids.closed as number])).toEqual([]);
    expect(await store.joinedCount(open)).toBe(3);
  });

  it("counts per channel how many of some users joined it", async () => {
    const { store } = await adapter.fresh();
    const a = (await channel(store, "a")).id;
    const b = (await channel(store, "b")).id;
    for (const user of ["x", "y", "z"]) await join(store, a, u(user), user);
    await join(store, b, u("x"), "x");
    await join(store, b, u("y"), "y", 2, "leave");
    const counts = await store.joinedCountsAmong([u("x"), u("y"), u("nobody")]);
    expect([...counts].sort()).toEqual([
      [a, 2],
      [b, 1],
    ]);
    expect((await store.joinedCountsAmong([])).size).toBe(0);
  });

  it("user search: by id or latest display name, in public channels or shared ones; never integrations", async () => {
    const { store } = await adapter.fresh();
    const pub = (await channel(store, "pub")).id;
    const priv = (await channel(store, "priv")).id;
    const other = (await channel(store, "other")).id;
    const closed = (await channel(store, "gone")).id;
    await store.setJoinRule(priv, "invite");
    await store.setJoinRule(other, "invite");
    const me = u("me");
    await join(store, priv, me, "Me");
    await join(store, pub, u("pam"), "Old Name", 1);
    await join(store, pub, u("pam"), "Pamela", 2);
    await join(store, priv, u("pia"), "Pia");
    await join(store, other, u("pete"), "Pete");
    await join(store, closed, u("paul"), "Paul");
    await store.closeChannel(closed, 3);
    // A native guest in the public channel, and one who shares the private one.
    for (const [name, guest] of [
      ["chat_gus", true],
      ["chat_gil", true],
      ["chat_api-key1", false],
      ["chat_hook-abc", false],
    ] as const) {
      await store.upsertNativeUser({ userId: u(name), localpart: name.slice(5), isGuest: guest });
      await store.setNativeProfile(u(name), profile(`P ${name}`));
    }
    await join(store, pub, u("chat_gus"), "P chat_gus");
    await join(store, priv, u("chat_gil"), "P chat_gil");
    await join(store, pub, u("chat_api-key1"), "P api");
    await join(store, pub, u("chat_hook-abc"), "P hook");
    await join(store, pub, u("bot"), "P bot");
    const search = async (term: string, limit = 20, offset = 0) =>
      (await store.searchUsers({ term, caller: me, exclude: u("bot"), limit, offset })).map((f) => f.userId);
    expect(await search("p")).toEqual([u("chat_gil"), u("pam"), u("pia")]);
    expect(await search("PAMEL")).toEqual([u("pam")]);
    expect(await search("old name")).toEqual([]);
    expect(await search("@me")).toEqual([]);
    expect(await search("p", 2, 1)).toEqual([u("pam"), u("pia")]);
    // LIKE's wildcards are literal.
    expect(await search("%")).toEqual([]);
    // A native user's own profile is what is shown (and searched).
    await store.setNativeProfile(u("chat_gil"), { display_name: "Gilbert", avatar_url: "mxc://x/y" });
    expect(
      await store.searchUsers({ term: "gilb", caller: me, exclude: u("bot"), limit: 5, offset: 0 }),
    ).toEqual([{ userId: u("chat_gil"), displayName: "Gilbert", avatarUrl: "mxc://x/y" }]);
    // Leaving the shared channel: no longer found.
    await join(store, priv, u("pia"), "Pia", 5, "leave");
    expect(await search("pia")).toEqual([]);
  });
});
