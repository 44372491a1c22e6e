// Finding channels and people (PROTOCOL.md section 8): the directory of public channels, most
// online first, and the search for users who share a channel with the caller.
//
// The directory is ranked, not queried per page: online counts change every second, so paging
// through "ORDER BY online" in the store would show a channel twice or skip it whenever a count
// moved between two pages. A ranking is one snapshot of every listed channel (featured ones first,
// in the configured order, then by online members, joined members and name), built from a count
// kept per channel and the members of the users online now, and shared by every query for
// `refreshMs`. A cursor names its ranking and a position in it: the pages of one listing come from
// the same snapshot, so no channel appears twice and none is skipped however channels change
// meanwhile. Each page is checked against the store as it is now: a channel that stopped being
// listed (made private, closed, guests turned off) is left out, never shown from the snapshot.
// Rankings are kept for RETAIN_MS; a cursor whose ranking is gone (expired, or made by another
// node) continues in the current ranking after the last channel it had reached, by rank.
import { randomBytes } from "node:crypto";
import type { Logger } from "../logging.ts";
import { ProtocolError } from "../protocol/errors.ts";
import type { ChannelName, UserId } from "../protocol/ids.ts";
import type { DirectoryEntry, DirectoryPage, UserSearchPage } from "../protocol/wire.ts";
import type { Activity } from "./activity.ts";
import type { Store } from "./ports/store.ts";

export const USER_SEARCH_PAGE = 20;
/** How long a ranking answers its cursors. */
export const RETAIN_MS = 5 * 60_000;
/** Rankings kept at most (the newest), whatever their age. */
const RETAIN_COUNT = 20;

export interface DirectoryQuery {
  readonly search?: string | undefined;
  readonly count: number;
  readonly cursor?: string | undefined;
}

export interface Directory {
  channels(
    query: DirectoryQuery,
  ): Promise<DirectoryPage<{ user: UserId; channel: ChannelName; seq: number }>>;
  searchUsers(
    caller: UserId,
    term: string,
    page: number,
  ): Promise<UserSearchPage<{ user: UserId; channel: ChannelName; seq: number }>>;
}

export interface DirectoryDeps {
  readonly store: Store;
  readonly activity: Pick<Activity, "onlineUsers">;
  /** Listed first, in this order (config chat.featured_channels). */
  readonly featured: readonly ChannelName[];
  /** A ranking answers first pages this long; until 6 times as long it is rebuilt in the background. */
  readonly refreshMs: number;
  /** Never found by user search. */
  readonly botUserId: UserId;
  readonly log: Logger;
  readonly now?: () => number;
}

interface Ranked {
  readonly id: number;
  readonly name: ChannelName;
  readonly lowerName: string;
  readonly lowerTopic: string;
  readonly members: number;
  readonly online: number;
  /** The position in the featured list; featured.length for the rest. */
  readonly featured: number;
}

interface Ranking {
  readonly id: string;
  readonly builtAt: number;
  readonly entries: readonly Ranked[];
}

/** Where a ranking's order puts a channel: compared as a tuple. */
type RankKey = readonly [featured: number, online: number, members: number, name: string];
const keyOf = (e: Ranked): RankKey => [e.featured, e.online, e.members, e.name];
/** Negative when `a` comes first. */
function compareKeys(a: RankKey, b: RankKey): number {
  return a[0] - b[0] || b[1] - a[1] || b[2] - a[2] || (a[3] < b[3] ? -1 : a[3] > b[3] ? 1 : 0);
}

interface Cursor {
  /** The ranking, the position in its entries the search leaves, and the key of the entry before it. */
  readonly r: string;
  readonly o: number;
  readonly k: RankKey;
  /** The search it pages through. */
  readonly q: string;
}

const badCursor = () =>
  new ProtocolError(
    "protocol.invalid_payload",
    "The cursor is not one this directory gave, or for another search.",
    {
      fields: ["cursor"],
    },
  );

function decodeCursor(text: string, search: string): Cursor {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(text, "base64url").toString("utf8"));
  } catch {
    throw badCursor();
  }
  const c = value as Partial<Cursor> | null;
  const k = c?.k;
  if (
    typeof c?.r !== "string" ||
    !Number.isSafeInteger(c.o) ||
    (c.o ?? -1) < 0 ||
    c.q !== search ||
    !Array.isArray(k) ||
    k.length !== 4 ||
    !k.slice(0, 3).every((n) => Number.isSafeInteger(n)) ||
    typeof k[3] !== "string"
  )
    throw badCursor();
  return c as Cursor;
}

const encodeCursor = (cursor: Cursor): string => Buffer.from(JSON.stringify(cursor)).toString("base64url");

export function createDirectory(deps: DirectoryDeps): Directory {
  const { store, activity, featured, refreshMs, botUserId, log } = deps;
  const now = deps.now ?? Date.now;
  const featuredAt = new Map<string, number>(featured.map((name, i) => [name, i]));
  const rankings = new Map<string, Ranking>();
  let latest: Ranking | undefined;
  let building: Promise<Ranking> | undefined;

  const build = async (): Promise<Ranking> => {
    const startedAt = now();
    const listed = await store.listedChannels();
    const around = [...new Set(await activity.onlineUsers(startedAt))];
    // Invisible looks offline (PROTOCOL.md section 9): not counted, or a count could show them.
    const chosen = await store.presenceOf(around);
    const online = await store.joinedCountsAmong(
      around.filter((id) => chosen.get(id)?.status !== "invisible"),
    );
    const entries: Ranked[] = listed.map((c) => ({
      id: c.id,
      name: c.name,
      lowerName: c.name.toLowerCase(),
      lowerTopic: (c.topic ?? "").toLowerCase(),
      members: c.members,
      online: online.get(c.id) ?? 0,
      featured: featuredAt.get(c.name) ?? featured.length,
    }));
    entries.sort((a, b) => compareKeys(keyOf(a), keyOf(b)));
    const ranking = { id: randomBytes(9).toString("base64url"), builtAt: startedAt, entries };
    rankings.set(ranking.id, ranking);
    for (const [id, old] of rankings) {
      if (rankings.size <= RETAIN_COUNT && startedAt - old.builtAt < RETAIN_MS) break;
      rankings.delete(id);
    }
    latest = ranking;
    return ranking;
  };
  const rebuild = (): Promise<Ranking> => {
    building ??= build().finally(() => {
      building = undefined;
    });
    return building;
  };
  /** The ranking a first page reads: fresh, or a little stale while a new one is built. */
  const current = async (): Promise<Ranking> => {
    const age = latest === undefined ? Number.POSITIVE_INFINITY : now() - latest.builtAt;
    if (latest !== undefined && age < refreshMs) return latest;
    if (latest !== undefined && age < refreshMs * 6) {
      rebuild().catch((error: unknown) => log.warn("ranking the channel directory failed", error));
      return latest;
    }
    return rebuild();
  };

  const matching = (ranking: Ranking, search: string): readonly Ranked[] => {
    if (search === "") return ranking.entries;
    return ranking.entries.filter((e) => e.lowerName.includes(search) || e.lowerTopic.includes(search));
  };

  return {
    async channels({ search: rawSearch, count, cursor: rawCursor }) {
      const search = (rawSearch ?? "").trim().toLowerCase();
      let ranking: Ranking;
      let entries: readonly Ranked[];
      let position: number;
      if (rawCursor === undefined) {
        ranking = await current();
        entries = matching(ranking, search);
        position = 0;
      } else {
        const cursor = decodeCursor(rawCursor, search);
        const kept = rankings.get(cursor.r);
        if (kept) {
          ranking = kept;
          entries = matching(ranking, search);
          position = cursor.o;
        } else {
          ranking = await current();
          entries = matching(ranking, search);
          position = entries.findIndex((e) => compareKeys(keyOf(e), cursor.k) > 0);
          if (position < 0) position = entries.length;
        }
      }
      const results: DirectoryEntry<{ user: UserId; channel: ChannelName; seq: number }>[] = [];
      let last: Ranked | undefined;
      while (results.length < count && position < entries.length) {
        const batch = entries.slice(position, position + count - results.length);
        position += batch.length;
        last = batch.at(-1);
        const still = new Map((await store.listedAmong(batch.map((e) => e.id))).map((c) => [c.id, c]));
        for (const entry of batch) {
          const row = still.get(entry.id);
          if (!row) continue;
          results.push({
            id: entry.name,
            topic: row.topic,
            members: entry.members,
            online: entry.online,
            ...(row.live ? { live: true as const } : {}),
          });
        }
      }
      if (position >= entries.length || last === undefined) return { results };
      return {
        results,
        next_cursor: encodeCursor({ r: ranking.id, o: position, k: keyOf(last), q: search }),
      };
    },

    async searchUsers(caller, term, page) {
      const found = await store.searchUsers({
        term,
        caller,
        exclude: botUserId,
        limit: USER_SEARCH_PAGE + 1,
        offset: (page - 1) * USER_SEARCH_PAGE,
      });
      return {
        results: found.slice(0, USER_SEARCH_PAGE).map((u) => ({
          id: u.userId,
          profile: { display_name: u.displayName, avatar_url: u.avatarUrl },
        })),
        isLastPage: found.length <= USER_SEARCH_PAGE,
      };
    },
  };
}
