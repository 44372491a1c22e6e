// user.list.search's 1-2 character terms, against both adapters: PostgreSQL answers them from its
// grams index when few users hold the term, by walking the ids when many do (FEW_HOLDERS), and
// both must find what the plain rule finds: id or display name (lower-cased A-Z) contains the term,
// among users in a public channel or sharing one with the caller, in id order, page by page.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Store } from "../../src/domain/ports/store.ts";
import { asChannelName, asRoomId, asUserId, type UserId } from "../../src/protocol/ids.ts";
import { FEW_HOLDERS } from "../../src/store/postgres/directory.ts";
import { storeAdapters } from "../support/stores.ts";

const channel = async (store: Store, name: string, joinRule: "public" | "invite") => {
  const { id } = await store.insertChannel(asChannelName(name), asRoomId(`!${name}:x`), `#${name}:x`);
  if (joinRule === "invite") await store.setJoinRule(id, "invite");
  return id;
};
const pad = (n: number) => String(n).padStart(3, "0");
const lower = (text: string) => text.replace(/[A-Z]/g, (c) => c.toLowerCase());

describe.each(storeAdapters())("$name user search, short terms", (adapter) => {
  beforeAll(() => adapter.setup(), 60_000);
  afterEach(() => adapter.closeAll());
  afterAll(() => adapter.teardown());

  it("finds what a contains test over id and display name finds, whichever way the term is looked up", async () => {
    const { store } = await adapter.fresh();
    const pub = await channel(store, "pub", "public");
    const mine = await channel(store, "mine", "invite");
    const hidden = await channel(store, "hidden", "invite");
    const me = asUserId("@me:x");
    await store.setMember({
      channelId: mine,
      userId: me,
      membership: "join",
      profile: { display_name: "Me", avatar_url: null },
      at: 1,
    });
    // Who may be found, with the display name their search holds.
    const findable = new Map<UserId, string>();
    const add = async (id: string, name: string, where: number) => {
      const userId = asUserId(id);
      await store.setMember({
        channelId: where,
        userId,
        membership: "join",
        profile: { display_name: name, avatar_url: null },
        at: 1,
      });
      if (where !== hidden) findable.set(userId, name);
    };
    // More holders of "zz" than are looked up by id; a few of "qx"; some nobody may find.
    for (let i = 0; i < FEW_HOLDERS + 30; i++) await add(`@a${pad(i)}:x`, `Zz fan ${i}`, pub);
    for (let i = 0; i < 5; i++) await add(`@b${pad(i)}:x`, `QX ${i}`, pub);
    await add("@b900:x", "Qx hidden", hidden);
    await add("@b901:x", "Qx shared", mine);
    // The newline between id and name, a control character, LIKE's wildcards.
    await add("@c000:x", "Line\nbreak", pub);
    await add("@c001:x", "ctl\u0001x", pub);
    await add("@c002:x", "100% _sure_", pub);

    const expected = (term: string) =>
      [...findable]
        .filter(([id, name]) => lower(`${id}\n${name}`).includes(lower(term)))
        .map(([id]) => id)
        .sort();
    const terms = [
      "zz",
      "z",
      "Zz",
      "qx",
      "q",
      "x",
      "b9",
      "\nl",
      "k\nb",
      "\u0001",
      "\u0001x",
      "l\u0001",
      "%",
      "_s",
      "0",
    ];
    for (const term of terms)
      for (const [limit, offset] of [
        [21, 0],
        [21, 20],
        [5, 3],
        [1000, 0],
      ] as const) {
        const found = await store.searchUsers({
          term,
          caller: me,
          exclude: asUserId("@bot:x"),
          limit,
          offset,
        });
        expect(
          found.map((f) => f.userId),
          `${JSON.stringify(term)} ${limit} from ${offset}`,
        ).toEqual(expected(term).slice(offset, offset + limit));
      }
  });
});
