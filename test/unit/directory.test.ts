// The directory's rankings (src/domain/directory.ts) with a fake store and clock: how long one
// answers first pages, rebuilding in the background while a stale one answers, and a cursor whose
// ranking is gone continuing by rank in the current one.
import { describe, expect, it } from "vitest";
import { createDirectory, RETAIN_MS } from "../../src/domain/directory.ts";
import type { ListedChannel, Store } from "../../src/domain/ports/store.ts";
import { asChannelName, asUserId, type UserId } from "../../src/protocol/ids.ts";

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

function setup(refreshMs: number) {
  const channels = new Map<number, ListedChannel>();
  const add = (id: number, members: number) =>
    channels.set(id, { id, name: asChannelName(`c${id}`), topic: null, members, live: false });
  let builds = 0;
  const store = {
    listedChannels: async () => {
      builds++;
      return [...channels.values()];
    },
    listedAmong: async (ids: readonly number[]) =>
      ids.flatMap((id) => (channels.has(id) ? [channels.get(id) as ListedChannel] : [])),
    joinedCountsAmong: async () => new Map<number, number>(),
    presenceOf: async () => new Map(),
  } as unknown as Store;
  let now = 1_000_000;
  const directory = createDirectory({
    store,
    activity: { onlineUsers: async () => [] as UserId[] },
    featured: [],
    refreshMs,
    botUserId: asUserId("@bot:x"),
    log: quiet,
    now: () => now,
  });
  const ids = async (cursor?: string, count = 2) => {
    const page = await directory.channels({ count, ...(cursor ? { cursor } : {}) });
    return { ids: page.results.map((e) => e.id), cursor: page.next_cursor };
  };
  return {
    add,
    remove: (id: number) => channels.delete(id),
    ids,
    builds: () => builds,
    tick: (ms: number) => {
      now += ms;
    },
  };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe("directory rankings", () => {
  it("answer first pages while fresh, then once more while the next is built, then wait for it", async () => {
    const d = setup(1_000);
    d.add(1, 5);
    expect((await d.ids()).ids).toEqual(["c1"]);
    d.add(2, 9);
    d.tick(500);
    expect((await d.ids()).ids).toEqual(["c1"]);
    expect(d.builds()).toBe(1);
    d.tick(1_000); // stale: answered as it was, a new one built meanwhile
    expect((await d.ids()).ids).toEqual(["c1"]);
    await settle();
    expect(d.builds()).toBe(2);
    expect((await d.ids()).ids).toEqual(["c2", "c1"]);
    d.add(3, 20);
    d.tick(6_000); // too stale to answer: built first
    expect((await d.ids()).ids).toEqual(["c3", "c2"]);
  });

  it("page one ranking through its cursor; once it is gone, a cursor goes on after its last channel by rank", async () => {
    const d = setup(0);
    for (let id = 1; id <= 6; id++) d.add(id, id * 10);
    const first = await d.ids();
    expect(first.ids).toEqual(["c6", "c5"]);
    // Changes between pages do not reorder this listing.
    d.add(7, 1_000);
    d.add(1, 55);
    const second = await d.ids(first.cursor);
    expect(second.ids).toEqual(["c4", "c3"]);
    // Rankings outlive RETAIN_MS no longer: a new listing's build forgets this one.
    d.tick(RETAIN_MS + 1);
    expect((await d.ids(undefined, 1)).ids).toEqual(["c7"]);
    const third = await d.ids(second.cursor);
    // In the current ranking (c7 1000, c1 55, c6 60 ...): after c3 (30 members) come c2.
    expect(third.ids).toEqual(["c2"]);
    expect(third.cursor).toBeUndefined();
  });

  it("leave out channels no longer listed, and go on to fill the page", async () => {
    const d = setup(0);
    for (let id = 1; id <= 5; id++) d.add(id, id);
    const first = await d.ids();
    d.remove(3);
    d.remove(2);
    const next = await d.ids(first.cursor);
    expect(next.ids).toEqual(["c1"]);
    expect(next.cursor).toBeUndefined();
  });
});
