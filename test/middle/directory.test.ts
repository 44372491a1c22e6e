// Finding channels and people (PROTOCOL.md section 8): chat.directory lists public channels a guest
// may join, featured first, then most online; its cursor pages one ranking whatever changes
// meanwhile; user.list.search finds only users who share a channel with the caller, or a public one.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Actor } from "../../src/domain/actor.ts";
import { asChannelName, asUserId } from "../../src/protocol/ids.ts";
import { TestClient } from "../support/client.ts";
import { type Middle, puppet, startMiddle } from "../support/middle.ts";
import { unique } from "../support/parley.ts";

const FEATURED = ["feat_second", "feat_first"];
const admin: Actor = { userId: asUserId(puppet("operator")), admin: true, isGuest: false };

let m: Middle;
beforeAll(async () => {
  // A ranking per query: each test sees what it just did.
  m = await startMiddle({ chat: { featured_channels: FEATURED, directory_refresh_ms: 0 } });
});
afterAll(async () => {
  await m?.stop();
});

interface Entry {
  id: string;
  topic: string | null;
  members: number;
  online: number;
  live?: true;
}
type Page = { results: Entry[]; next_cursor?: string };

const page = async (client: TestClient, payload: Record<string, unknown>) =>
  (await client.ok("chat.directory", payload)) as unknown as Page;

/** Every page of a search, `between` run after each page but the last. */
async function allPages(
  client: TestClient,
  search: string,
  count: number,
  between?: (n: number) => Promise<void>,
) {
  const pages: Entry[][] = [];
  let cursor: string | undefined;
  for (;;) {
    const p = await page(client, { search, count, ...(cursor ? { cursor } : {}) });
    pages.push(p.results);
    if (!p.next_cursor) return pages;
    cursor = p.next_cursor;
    await between?.(pages.length);
  }
}

/** `n` users joined to the channel (each connected, so online). */
async function fill(channel: string, n: number) {
  const users: TestClient[] = [];
  for (let i = 0; i < n; i++) {
    const user = await m.login(unique("member"), "Member");
    await user.ok("chat.join", { channel });
    users.push(user);
  }
  return users;
}

describe("chat.directory", () => {
  it("lists public channels guests may join with their counts; never private, direct, moderators', closed or guest-less ones", async () => {
    const tag = unique("dirlist");
    const owner = await m.login(unique("owner"), "Owner");
    const names = ["open", "invite", "noguests", "closed"].map((k) => `${tag}_${k}`);
    for (const channel of names) await owner.ok("chat.join", { channel });
    await m.services.platformChannels.configure(admin, asChannelName(`${tag}_invite`), { public: false });
    await owner.ok("chat.settings", { channel: `${tag}_noguests`, guests: false });
    await m.services.platformChannels.close(asChannelName(`${tag}_closed`));
    await owner.ok("chat.mod_channel", { channel: `${tag}_open` });
    const friend = await m.login(unique("friend"), "Friend");
    await friend.ok("chat.join", { channel: `${tag}_open` });
    await owner.ok("chat.direct.create", { users: [asUserId(puppet("someone"))] });
    await m.settle();

    const all = (await allPages(owner, "", 100)).flat();
    const ours = all.filter((e) => e.id.startsWith(tag));
    expect(ours).toEqual([{ id: `${tag}_open`, topic: null, members: 2, online: 2 }]);
    expect(
      all.some((e) => e.id.startsWith("dm.") || e.id.endsWith(".mods") || e.id.startsWith("mods.")),
    ).toBe(false);
    // Guests see the same list.
    const guest = await TestClient.login(m.url, { client_id: `guest-${unique("g")}` });
    expect((await allPages(guest, tag, 10)).flat().map((e) => e.id)).toEqual([`${tag}_open`]);
    guest.close();
    // Turned private later: gone from the next listing.
    await m.services.platformChannels.configure(admin, asChannelName(`${tag}_open`), { public: false });
    expect((await page(owner, { search: tag })).results).toEqual([]);
  });

  it("orders by online members, then members, then name; search matches name and topic, case-insensitively", async () => {
    const tag = unique("dirrank");
    const quiet = `${tag}_a_quiet`;
    const busy = `${tag}_b_busy`;
    const crowded = `${tag}_c_crowded`;
    const [q] = await fill(quiet, 1);
    await fill(busy, 3);
    const crowd = await fill(crowded, 4);
    // Two of the crowd go offline: 4 members, 2 online, below busy's 3.
    for (const user of crowd.slice(0, 2)) user.close();
    await m.settle();
    await m.services.platformChannels.configure(admin, asChannelName(quiet), { topic: "Late Night JAZZ" });

    const ranked = (await page(q as TestClient, { search: tag })).results;
    expect(ranked.map((e) => [e.id, e.members, e.online])).toEqual([
      [busy, 3, 3],
      [crowded, 4, 2],
      [quiet, 1, 1],
    ]);
    expect((await page(q as TestClient, { search: `${tag}_B_BU` })).results.map((e) => e.id)).toEqual([busy]);
    const byTopic = (await page(q as TestClient, { search: "night jazz" })).results;
    expect(byTopic).toEqual([{ id: quiet, topic: "Late Night JAZZ", members: 1, online: 1 }]);
    expect((await page(q as TestClient, { search: `${tag}_nothing` })).results).toEqual([]);
  });

  it("does not count a member who chose to look invisible as online", async () => {
    const channel = unique("dirinvisible");
    const [shy, open] = await fill(channel, 2);
    await shy?.ok("user.presence", { status: "invisible" });
    expect((await page(open as TestClient, { search: channel })).results).toEqual([
      { id: channel, topic: null, members: 2, online: 1 },
    ]);
  });

  it("pages one ranking: no channel twice, none skipped, while counts move and channels come and go", async () => {
    const tag = unique("dirpage");
    const names = Array.from({ length: 7 }, (_, i) => `${tag}_${i}`);
    const owner = await m.login(unique("owner"), "Owner");
    for (const channel of names) await owner.ok("chat.join", { channel });
    // Different counts, so the order is by members: _6 has the most.
    for (let i = 0; i < names.length; i++) await fill(names[i] as string, i);
    await m.settle();

    const turnedPrivate = `${tag}_1`;
    const pages = await allPages(owner, tag, 2, async (n) => {
      if (n === 1) {
        // The last of the ranking becomes the busiest, a new channel appears, one turns private.
        await fill(`${tag}_0`, 10);
        await owner.ok("chat.join", { channel: `${tag}_new` });
        await m.services.platformChannels.configure(admin, asChannelName(turnedPrivate), { public: false });
      }
    });
    const seen = pages.flat().map((e) => e.id);
    expect(seen).toEqual([...names].reverse().filter((name) => name !== turnedPrivate));
    expect(pages[0]).toHaveLength(2);
    // The next listing has the new ranking.
    const fresh = (await allPages(owner, tag, 100)).flat().map((e) => e.id);
    expect(fresh[0]).toBe(`${tag}_0`);
    expect(fresh).toContain(`${tag}_new`);
    expect(fresh).not.toContain(turnedPrivate);
  });

  it("lists featured channels first, in the configured order, and only while they are public", async () => {
    const owner = await m.login(unique("owner"), "Owner");
    for (const channel of FEATURED) await owner.ok("chat.join", { channel });
    const busy = unique("feat_busy");
    await fill(busy, 3);
    const first = await page(owner, { search: "feat_" });
    expect(first.results.map((e) => e.id)).toEqual(["feat_second", "feat_first", busy]);
    await owner.ok("chat.settings", { channel: "feat_second", guests: false });
    expect((await page(owner, { search: "feat_" })).results.map((e) => e.id)).toEqual(["feat_first", busy]);
    await owner.ok("chat.settings", { channel: "feat_second", guests: true });
  });

  it("refuses bad counts, searches and cursors", async () => {
    const client = await m.login(unique("asker"), "Asker");
    for (const payload of [
      { count: 0 },
      { count: 101 },
      { count: 2.5 },
      { search: "x".repeat(101) },
      { cursor: "" },
    ]) {
      const reply = await client.request("chat.directory", payload);
      expect(reply, JSON.stringify(payload)).toMatchObject({
        ok: false,
        error: { code: "protocol.invalid_payload" },
      });
    }
    const tag = unique("dircursor");
    for (let i = 0; i < 3; i++) await client.ok("chat.join", { channel: `${tag}_${i}` });
    const first = await page(client, { search: tag, count: 1 });
    expect(first.next_cursor).toBeDefined();
    for (const payload of [
      { cursor: "not a cursor" },
      { cursor: Buffer.from('{"r":"x"}').toString("base64url") },
      { search: `${tag}_other`, cursor: first.next_cursor },
    ]) {
      expect(await client.request("chat.directory", payload), JSON.stringify(payload)).toMatchObject({
        ok: false,
        error: { code: "protocol.invalid_payload", fields: ["cursor"] },
      });
    }
    // The cursor still works with its own search.
    expect((await page(client, { search: tag, count: 1, cursor: first.next_cursor })).results).toHaveLength(
      1,
    );
  });
});

describe("user.list.search", () => {
  type Found = {
    results: Array<{ id: string; profile: { display_name: string | null } }>;
    isLastPage: boolean;
  };
  const search = async (client: TestClient, term: string, page?: number) =>
    (await client.ok("user.list.search", {
      search_term: term,
      ...(page ? { page } : {}),
    })) as unknown as Found;

  it("finds users in public channels or sharing one with the caller; guests only if they share one", async () => {
    const tag = unique("who");
    const caller = await m.login(`${tag}_caller`, "Caller");
    const inPublic = await m.login(`${tag}_public`, `${tag} Public Person`);
    await inPublic.ok("chat.join", { channel: `${tag}_pub` });
    const privateChannel = `${tag}_priv`;
    await caller.ok("chat.join", { channel: privateChannel });
    const mate = await m.login(`${tag}_mate`, "Mate");
    await mate.ok("chat.join", { channel: privateChannel });
    await m.services.platformChannels.configure(admin, asChannelName(privateChannel), { public: false });
    // In a private channel the caller is not in: not found.
    const stranger = await m.login(`${tag}_stranger`, "Stranger");
    await stranger.ok("chat.join", { channel: `${tag}_other_priv` });
    await m.services.platformChannels.configure(admin, asChannelName(`${tag}_other_priv`), { public: false });
    // In no channel at all.
    await m.login(`${tag}_loner`, "Loner");
    // A guest in a public channel, and one sharing the caller's channel.
    const farGuest = await TestClient.login(m.url, { client_id: `guest-${unique("far")}` });
    await farGuest.ok("user.update", { profile: { display_name: `${tag} far guest` } });
    await farGuest.ok("chat.join", { channel: `${tag}_pub` });
    const nearGuest = await TestClient.login(m.url, { client_id: `guest-${unique("near")}` });
    await nearGuest.ok("user.update", { profile: { display_name: `${tag} near guest` } });
    await nearGuest.ok("chat.join", { channel: `${tag}_shared` });
    await caller.ok("chat.join", { channel: `${tag}_shared` });
    // A Matrix user in a public channel, found by display name.
    const pub = await m.store.channelByName(asChannelName(`${tag}_pub`));
    const matrixId = `@${tag}_matrix:elsewhere.example`;
    m.fake.asMatrixUser(matrixId, "Zed From Matrix").join(pub?.roomId as string);
    await m.settle();

    const found = await search(caller, tag);
    const ids = found.results.map((u) => u.id);
    expect(ids).toContain(puppet(`${tag}_public`));
    expect(ids).toContain(puppet(`${tag}_mate`));
    expect(ids).toContain(matrixId);
    expect(ids).not.toContain(puppet(`${tag}_stranger`));
    expect(ids).not.toContain(puppet(`${tag}_loner`));
    expect(ids).not.toContain(puppet(`${tag}_caller`));
    const names = found.results.map((u) => u.profile.display_name);
    expect(names).toContain(`${tag} near guest`);
    expect(names).not.toContain(`${tag} far guest`);
    expect(found.isLastPage).toBe(true);
    expect((await search(caller, "zed from MATRIX")).results).toEqual([
      { id: matrixId, profile: { display_name: "Zed From Matrix", avatar_url: null } },
    ]);
    // Sorted by id, and the same for whoever asks from outside: the mate is not found by a stranger.
    expect(ids).toEqual([...ids].sort());
    expect((await search(stranger, `${tag}_mate`)).results).toEqual([]);
    farGuest.close();
    nearGuest.close();
  });

  it("pages by 20 and refuses an empty term or a bad page", async () => {
    const tag = unique("many");
    const channel = `${tag}_room`;
    const asker = await m.login(unique("asker"), "Asker");
    for (let i = 0; i < 23; i++) {
      const user = await m.login(`${tag}_${String(i).padStart(2, "0")}`, "Someone");
      await user.ok("chat.join", { channel });
    }
    const first = await search(asker, tag);
    expect(first.results).toHaveLength(20);
    expect(first.isLastPage).toBe(false);
    const second = await search(asker, tag, 2);
    expect(second.results.map((u) => u.id)).toEqual([20, 21, 22].map((i) => puppet(`${tag}_${i}`)));
    expect(second.isLastPage).toBe(true);
    expect((await search(asker, tag, 3)).results).toEqual([]);
    for (const payload of [
      { search_term: "" },
      { search_term: "   " },
      { search_term: "a", page: 0 },
      { page: 1 },
    ]) {
      expect(await asker.errorCode("user.list.search", payload), JSON.stringify(payload)).toBe(
        "protocol.invalid_payload",
      );
    }
  });
});
