// The presence mirror tells the homeserver a connected native user's presence again before Synapse
// times it out, as the user chose it now (on whichever node), and stops once they are offline,
// elsewhere, or the node stops.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { FanOut, Subscriber } from "../../src/domain/ports/fanout.ts";
import type { ChosenStatus } from "../../src/domain/presence.ts";
import { withPresenceMirror } from "../../src/domain/presence-mirror.ts";
import { createSingleNodeFanOut } from "../../src/fanout/local.ts";
import { createLogger } from "../../src/logging.ts";
import type { UserId } from "../../src/protocol/ids.ts";

const alice = "@chat_alice:localhost" as UserId;
const bob = "@chat_bob:localhost" as UserId;

interface Options {
  readonly refreshMs?: number;
  readonly maxRefreshPerSecond?: number;
  readonly fanout?: FanOut;
  /** Answers each presence PUT; by default at once. */
  readonly setPresence?: () => Promise<void>;
  /** Awaited after the store is read and before the answer is returned (a slow read). */
  readonly readDelay?: () => Promise<void>;
}

function mirrorWith(options: Options = {}) {
  const told: Array<[string, string, string | undefined]> = [];
  // What each user chose, as the store holds it (a choice made through any node).
  const chosen = new Map<UserId, ChosenStatus>();
  let failingReads = 0;
  const prepared: UserId[] = [];
  const warnings: string[] = [];
  const quiet = createLogger("Presence");
  const mirror = withPresenceMirror(options.fanout ?? createSingleNodeFanOut(), {
    matrix: {
      setPresence: async (userId, presence, statusMsg) => {
        told.push([userId, presence, statusMsg]);
        await options.setPresence?.();
      },
    },
    presence: {
      chosenOf: async (userIds) => {
        if (failingReads > 0) {
          failingReads--;
          throw new Error("the store is away");
        }
        const read = new Map(userIds.map((userId) => [userId, chosen.get(userId) ?? "online"] as const));
        await options.readDelay?.();
        return read;
      },
      changed: () => undefined,
    },
    preparePuppet: async (userId) => {
      prepared.push(userId);
    },
    isNative: () => true,
    graceMs: 1_000,
    refreshMs: options.refreshMs ?? 20_000,
    maxRefreshPerSecond: options.maxRefreshPerSecond ?? 100,
    log: { ...quiet, warn: (message: string) => warnings.push(message) },
  });
  let ids = 0;
  const connect = (userId = alice): Subscriber => {
    const subscriber: Subscriber = {
      id: ++ids,
      userId,
      batchesMemberEvents: false,
      deliver: () => undefined,
      close: () => undefined,
    };
    mirror.addConnection(subscriber);
    return subscriber;
  };
  const presences = (userId = alice) => told.filter(([id]) => id === userId).map(([, presence]) => presence);
  /** The store's next `count` reads fail. */
  const failReads = (count: number) => {
    failingReads = count;
  };
  return { mirror, told, chosen, connect, presences, failReads, prepared, warnings };
}

/** Reads that answer at once until `slowDown()`, then each only when `answer()` is called. */
function slowStore() {
  let slow = false;
  let answer: () => void = () => undefined;
  return {
    readDelay: () =>
      slow
        ? new Promise<void>((resolve) => {
            answer = resolve;
          })
        : Promise.resolve(),
    slowDown: () => {
      slow = true;
    },
    answer: () => answer(),
  };
}

describe("presence mirror", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("tells Synapse again every refresh while connected, and not after going offline", async () => {
    const { mirror, told, connect, presences, prepared } = mirrorWith();
    const connection = connect();
    await vi.advanceTimersByTimeAsync(0);
    expect(told).toEqual([[alice, "online", undefined]]);
    expect(prepared).toEqual([alice]);

    await vi.advanceTimersByTimeAsync(19_000);
    expect(told).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(told).toHaveLength(2);
    // Every 20 s, give or take the 1 s check: well inside Synapse's 30 s.
    await vi.advanceTimersByTimeAsync(60_000);
    expect(told).toHaveLength(5);
    expect(presences().every((presence) => presence === "online")).toBe(true);
    expect(prepared).toEqual([alice]); // the puppet is registered once, not at each refresh

    mirror.removeConnection(connection);
    await vi.advanceTimersByTimeAsync(1_000); // the grace period: then offline, once
    expect(presences().slice(5)).toEqual(["offline"]);
    await vi.advanceTimersByTimeAsync(120_000);
    expect(told).toHaveLength(6);
    await mirror.stopPresence();
  });

  it("repeats a chosen status with its message, and never an invisible one", async () => {
    const dnd = mirrorWith();
    dnd.chosen.set(alice, "dnd");
    dnd.connect();
    await vi.advanceTimersByTimeAsync(45_000);
    expect(dnd.told.length).toBeGreaterThanOrEqual(3);
    expect(new Set(dnd.told.map((t) => t.join("|")))).toEqual(
      new Set([`${alice}|unavailable|Do not disturb`]),
    );
    await dnd.mirror.stopPresence();

    const invisible = mirrorWith();
    invisible.chosen.set(alice, "invisible");
    invisible.connect();
    await vi.advanceTimersByTimeAsync(90_000);
    expect(invisible.presences()).toEqual(["offline"]);
    await invisible.mirror.stopPresence();
  });

  it("follows a status chosen through another node at the next refresh", async () => {
    // Alice is connected here and on another node, where she chooses invisible, then dnd: only
    // that node hears user.presence, this one reads the choice when it refreshes.
    const { mirror, chosen, connect, presences } = mirrorWith();
    connect();
    await vi.advanceTimersByTimeAsync(0);
    chosen.set(alice, "invisible");
    await vi.advanceTimersByTimeAsync(21_000);
    expect(presences()).toEqual(["online", "offline"]);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(presences()).toEqual(["online", "offline"]);

    chosen.set(alice, "dnd");
    await vi.advanceTimersByTimeAsync(21_000);
    expect(presences()).toEqual(["online", "offline", "unavailable"]);
    await mirror.stopPresence();
  });

  it("a status chosen here while a refresh reads the old one is not overwritten by it", async () => {
    const store = slowStore();
    const { mirror, chosen, connect, presences } = mirrorWith({ readDelay: store.readDelay });
    connect();
    await vi.advanceTimersByTimeAsync(0);
    store.slowDown();
    await vi.advanceTimersByTimeAsync(20_500); // the refresh has read "online", not answered yet
    chosen.set(alice, "invisible");
    mirror.showChosen(alice, "invisible");
    store.answer();
    await vi.advanceTimersByTimeAsync(0);
    expect(presences()).toEqual(["online", "offline"]);
    await mirror.stopPresence();
  });

  it("a status chosen here is told even when this node showed it last (another node showed something since)", async () => {
    const { mirror, chosen, connect, presences } = mirrorWith();
    connect();
    await vi.advanceTimersByTimeAsync(0);
    // dnd through another node, then online again here before this node's refresh read it.
    chosen.set(alice, "dnd");
    await vi.advanceTimersByTimeAsync(5_000);
    chosen.set(alice, "online");
    mirror.showChosen(alice, "online");
    await vi.advanceTimersByTimeAsync(0);
    expect(presences()).toEqual(["online", "online"]);
    await mirror.stopPresence();
  });

  it("tells offline when the last connection settles, even after an invisible told from here", async () => {
    const { mirror, chosen, connect, presences } = mirrorWith();
    chosen.set(alice, "invisible");
    const connection = connect();
    await vi.advanceTimersByTimeAsync(0);
    chosen.set(alice, "online"); // through another node, whose connection then closes
    mirror.removeConnection(connection);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(presences()).toEqual(["offline", "offline"]);
    await mirror.stopPresence();
  });

  it("a store that cannot say what a user chose delays nothing for long", async () => {
    // The first read fails: the next refresh reads again and shows them.
    const first = mirrorWith();
    first.failReads(1);
    first.connect();
    await vi.advanceTimersByTimeAsync(0);
    expect(first.presences()).toEqual([]);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(first.presences()).toEqual(["online"]);
    await first.mirror.stopPresence();

    // A refresh's read fails: what was told is repeated (Synapse must not time it out), and the
    // refreshes after it read again.
    const later = mirrorWith();
    later.chosen.set(alice, "dnd");
    later.connect();
    await vi.advanceTimersByTimeAsync(0);
    later.failReads(1);
    later.chosen.set(alice, "online");
    await vi.advanceTimersByTimeAsync(21_000);
    expect(later.presences()).toEqual(["unavailable", "unavailable"]);
    await vi.advanceTimersByTimeAsync(20_000);
    expect(later.presences()).toEqual(["unavailable", "unavailable", "online"]);
    await later.mirror.stopPresence();
  });

  it("a user gone before their first read answered is not shown online after their offline", async () => {
    const store = slowStore();
    store.slowDown();
    const { mirror, connect, presences } = mirrorWith({ readDelay: store.readDelay });
    mirror.removeConnection(connect());
    await vi.advanceTimersByTimeAsync(1_000); // grace over, offline told
    store.answer();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(presences()).toEqual(["offline"]);
    await mirror.stopPresence();
  });

  it("a refresh still reading when the node stops tells nothing", async () => {
    const store = slowStore();
    const { mirror, connect, told } = mirrorWith({ readDelay: store.readDelay });
    connect();
    await vi.advanceTimersByTimeAsync(0);
    store.slowDown();
    await vi.advanceTimersByTimeAsync(20_500);
    await mirror.stopPresence();
    store.answer();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(told).toHaveLength(1);
  });

  it("refreshes no more than the cap a second, the longest waiting first, and says so", async () => {
    // 50 users want 2.5 refreshes a second; the cap allows 1.
    const users = Array.from({ length: 50 }, (_, i) => `@chat_u${i}:localhost` as UserId);
    const capped = mirrorWith({ maxRefreshPerSecond: 1 });
    for (const userId of users) capped.connect(userId);
    await vi.advanceTimersByTimeAsync(0);
    expect(capped.told).toHaveLength(50);
    await vi.advanceTimersByTimeAsync(80_000);
    const refreshes = capped.told.slice(50).map(([userId]) => userId);
    expect(refreshes.length).toBeGreaterThanOrEqual(59);
    expect(refreshes.length).toBeLessThanOrEqual(61);
    // In order of waiting: each user once before anyone twice.
    expect(refreshes.slice(0, 50)).toEqual(users);
    // Once a minute at most.
    expect(capped.warnings.length).toBeGreaterThanOrEqual(1);
    expect(capped.warnings.length).toBeLessThanOrEqual(2);
    expect(capped.warnings[0]).toMatch(
      /^presence: a refresh is [56] s late: 50 users connected here need 3 refreshes a second, chat\.presence_refresh_max_per_second is 1\./,
    );
    await capped.mirror.stopPresence();

    // Under the cap: every user every 20 s, and no warning.
    const free = mirrorWith({ maxRefreshPerSecond: 100 });
    for (const userId of users) free.connect(userId);
    await vi.advanceTimersByTimeAsync(61_000);
    expect(free.told).toHaveLength(200);
    expect(free.warnings).toEqual([]);
    await free.mirror.stopPresence();
  });

  it("a cap below one refresh a tick still refreshes, at its rate", async () => {
    // Checked every 250 ms with a cap of 1 a second: a quarter of a refresh a tick, carried over.
    const users = Array.from({ length: 10 }, (_, i) => `@chat_u${i}:localhost` as UserId);
    const slow = mirrorWith({ refreshMs: 2_000, maxRefreshPerSecond: 1 });
    for (const userId of users) slow.connect(userId);
    await vi.advanceTimersByTimeAsync(42_000);
    const refreshes = slow.told.length - 10;
    expect(refreshes).toBeGreaterThanOrEqual(38);
    expect(refreshes).toBeLessThanOrEqual(41);
    await slow.mirror.stopPresence();
  });

  it("invisible users cost the cap nothing: a visible one behind them is refreshed in time", async () => {
    const hidden = Array.from({ length: 10 }, (_, i) => `@chat_hidden${i}:localhost` as UserId);
    const { mirror, chosen, connect, presences } = mirrorWith({ maxRefreshPerSecond: 1 });
    for (const userId of hidden) {
      chosen.set(userId, "invisible");
      connect(userId);
    }
    connect(alice);
    await vi.advanceTimersByTimeAsync(22_000);
    expect(presences(alice)).toEqual(["online", "online"]);
    await mirror.stopPresence();
  });

  it("never tells again with a refresh of 0, nor after stopping, even for users it settles then", async () => {
    const off = mirrorWith({ refreshMs: 0 });
    off.connect();
    await vi.advanceTimersByTimeAsync(120_000);
    expect(off.told).toHaveLength(1);

    // Bob is in his grace period when the node stops, Alice still connected: Bob is told offline
    // at once, and nobody is told anything after that.
    const stopped = mirrorWith();
    stopped.connect(alice);
    const bobs = stopped.connect(bob);
    await vi.advanceTimersByTimeAsync(0);
    stopped.mirror.removeConnection(bobs);
    await stopped.mirror.stopPresence();
    expect(stopped.presences(bob)).toEqual(["online", "offline"]);
    const count = stopped.told.length;
    await vi.advanceTimersByTimeAsync(120_000);
    expect(stopped.told).toHaveLength(count);
  });

  it("sends one refresh per user at a time while the homeserver is slow", async () => {
    let homeserverBack: () => void = () => undefined;
    const back = new Promise<void>((resolve) => {
      homeserverBack = resolve;
    });
    const slow = mirrorWith({ setPresence: () => back });
    slow.connect();
    // The first PUT hangs for two minutes: no refreshes queue up behind it meanwhile.
    await vi.advanceTimersByTimeAsync(120_000);
    expect(slow.told).toHaveLength(1);
    // Back: the one refresh that waited goes, then one more is due at once, then every 20 s.
    homeserverBack();
    await vi.advanceTimersByTimeAsync(0);
    expect(slow.told).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(slow.told).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(20_000);
    expect(slow.told).toHaveLength(4);
    await slow.mirror.stopPresence();
  });

  it("a reconnect while the grace period ends keeps the user online", async () => {
    // The cluster's count answers late: Alice reconnects here while it is asked.
    const local = createSingleNodeFanOut();
    let release: () => void = () => undefined;
    const fanout: FanOut = {
      ...local,
      connectionCount: async (userId) => {
        await new Promise<void>((resolve) => {
          release = resolve;
        });
        return local.connectionCount(userId);
      },
    };
    const { mirror, connect, presences } = mirrorWith({ fanout });
    mirror.removeConnection(connect());
    await vi.advanceTimersByTimeAsync(1_000); // grace over: settling asks the count
    connect();
    release();
    await vi.advanceTimersByTimeAsync(0);
    expect(presences()).toEqual(["online"]);
    await vi.advanceTimersByTimeAsync(21_000);
    expect(presences()).toEqual(["online", "online"]);
    await mirror.stopPresence();
  });
});
