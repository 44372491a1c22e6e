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
  const mirror = withPresenceMirror(options.fanout ?? createSingleNodeFanOut(), {
    matrix: {
      setPresence: async (userId, presence, statusMsg) => {
        told.push([userId, presence, statusMsg]);
        await options.setPresence?.();
      },
    },
    presence: {
      chosenOf: async (userIds) => {
        const read = new Map(userIds.map((userId) => [userId, chosen.get(userId) ?? "online"] as const));
        await options.readDelay?.();
        return read;
      },
      changed: () => undefined,
    },
    preparePuppet: async () => undefined,
    isNative: () => true,
    graceMs: 1_000,
    refreshMs: options.refreshMs ?? 20_000,
    log: createLogger("Presence"),
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
  return { mirror, told, chosen, connect, presences };
}

describe("presence mirror", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("tells Synapse again every refresh while connected, and not after going offline", async () => {
    const { mirror, told, connect, presences } = mirrorWith();
    const connection = connect();
    await vi.advanceTimersByTimeAsync(0);
    expect(told).toEqual([[alice, "online", undefined]]);

    await vi.advanceTimersByTimeAsync(19_000);
    expect(told).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(told).toHaveLength(2);
    // Every 20 s, give or take the 1 s check: well inside Synapse's 30 s.
    await vi.advanceTimersByTimeAsync(60_000);
    expect(told).toHaveLength(5);
    expect(presences().every((presence) => presence === "online")).toBe(true);

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
    let readDone: () => void = () => undefined;
    let slowReads = false;
    const { mirror, chosen, connect, presences } = mirrorWith({
      readDelay: () =>
        slowReads
          ? new Promise<void>((resolve) => {
              readDone = resolve;
            })
          : Promise.resolve(),
    });
    connect();
    await vi.advanceTimersByTimeAsync(0);
    slowReads = true;
    await vi.advanceTimersByTimeAsync(20_500); // the refresh has read "online", not answered yet
    chosen.set(alice, "invisible");
    mirror.showChosen(alice, "invisible");
    readDone();
    await vi.advanceTimersByTimeAsync(0);
    expect(presences()).toEqual(["online", "offline"]);
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
