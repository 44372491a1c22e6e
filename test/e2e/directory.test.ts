// Finding channels and people (PROTOCOL.md section 8) with a real Synapse: a channel an ordinary
// Matrix user brings into being by joining its alias is in chat.directory, and a Matrix user who
// shares a channel is found by a native user's user.list.search; the SDK's typed calls too.
import { describe, expect, it } from "vitest";
import { ParleyClient } from "../../packages/client/src/index.ts";
import { chatFixture } from "../support/fixture.ts";
import { unique } from "../support/parley.ts";

// A ranking per first page: each test sees what it just did.
const fixture = chatFixture({ directoryRefreshMs: 0 });
const puppet = (name: string) => `@chat_${name}:localhost`;

/** Asks again (every 100 ms, 15 s at most) until `done` holds for the answer; returns it. */
async function until<T>(ask: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    const value = await ask();
    if (done(value) || attempt >= 150) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

type Page = { results: Array<{ id: string; members: number; online: number }>; next_cursor?: string };
type Found = {
  results: Array<{ id: string; profile: { display_name: string | null } }>;
  isLastPage: boolean;
};

describe("chat.directory", () => {
  it("lists a channel a Matrix user made by joining its alias, with them as its member, online", async () => {
    const channel = unique("matrix_made");
    const roomId = await fixture.carol.join(`#chat_${channel}:localhost`);
    expect(roomId).toMatch(/^!/);
    const alice = await fixture.login(unique("alice"), "Alice");
    const listed = await until(
      async () => (await alice.ok("chat.directory", { search: channel })) as unknown as Page,
      (page) => page.results[0]?.members === 1,
    );
    expect(listed).toEqual({ results: [{ id: channel, topic: null, members: 1, online: 1 }] });
  });

  it("pages through the SDK's typed call with its cursor", async () => {
    const tag = unique("sdkdir");
    const owner = await fixture.login(unique("owner"), "Owner");
    for (let i = 0; i < 3; i++) await owner.ok("chat.join", { channel: `${tag}_${i}` });
    const client = new ParleyClient({
      url: fixture.parley.url(),
      token: await fixture.parley.token(unique("sdk"), "Sdk"),
    });
    try {
      await client.connect();
      const first = await client.directory({ search: tag, count: 2 });
      expect(first.results).toHaveLength(2);
      const second = await client.directory({ search: tag, count: 2, cursor: first.next_cursor });
      expect(second.next_cursor).toBeUndefined();
      expect([...first.results, ...second.results].map((e) => e.id).sort()).toEqual(
        [0, 1, 2].map((i) => `${tag}_${i}`),
      );
    } finally {
      client.close();
    }
  });
});

describe("user.list.search", () => {
  it("finds a Matrix user who shares a channel, by display name, for a native user", async () => {
    const aliceName = unique("alice");
    const alice = await fixture.login(aliceName, "Alice");
    const channel = unique("shared");
    const joined = await alice.ok("chat.join", { channel });
    const carol = fixture.carol;
    await carol.join((joined.state as { alias: string }).alias);
    await alice.waitForEvent(
      (e) =>
        e.event_type === "channel.member" && (e.content as { user: { id: string } }).user.id === carol.userId,
    );
    const found = (await alice.ok("user.list.search", { search_term: "carol" })) as unknown as Found;
    expect(found.results).toContainEqual({
      id: carol.userId,
      profile: { display_name: "Carol", avatar_url: null },
    });
    expect(found.results.map((u) => u.id)).not.toContain(puppet(aliceName));
    // The SDK's typed call answers the same.
    const client = new ParleyClient({
      url: fixture.parley.url(),
      token: await fixture.parley.token(unique("sdk"), "Sdk"),
    });
    try {
      await client.connect();
      const page = await client.searchUsers(carol.userId.slice(1, 8));
      expect(page.results.map((u) => u.id)).toContain(carol.userId);
      expect(page.isLastPage).toBe(true);
    } finally {
      client.close();
    }
  });
});
