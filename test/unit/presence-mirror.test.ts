// The presence mirror tells the homeserver a connected native user's presence again before Synapse
// times it out (30 s without hearing from them), and stops once they are offline or elsewhere.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Subscriber } from "../../src/domain/ports/fanout.ts";
import type { ChosenStatus } from "../../src/domain/presence.ts";
import { withPresenceMirror } from "../../src/domain/presence-mirror.ts";
import { createSingleNodeFanOut } from "../../src/fanout/local.ts";
import { createLogger } from "../../src/logging.ts";
import type { UserId } from "../../src/protocol/ids.ts";

const alice = "@chat_alice:localhost" as UserId;

function mirrorWith(refreshMs: number, chosen: ChosenStatus = "online") {
  const told: Array<[string, string, string | undefined]> = [];
  const mirror = withPresenceMirror(createSingleNodeFanOut(), {
    matrix: {
      setPresence: async (userId, presence, statusMsg) => {
        told.push([userId, presence, statusMsg]);
      },
    },
    presence: { chosen: async () => chosen, changed: () => undefined },
    preparePuppet: async () => undefined,
    isNative: () => true,
    graceMs: 1_000,
    refreshMs,
    log: createLogger("Presence"),
  });
  let ids = 0;
  const connect = (): Subscriber => {
    const subscriber: Subscriber = {
      id: ++ids,
      userId: alice,
      batchesMemberEvents: false,
      deliver: () => undefined,
      close: () => undefined,
    };
    mirror.addConnection(subscriber);
    return subscriber;
  };
  return { mirror, told, connect };
}

describe("presence mirror", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("tells Synapse again every refresh while connected, and not after going offline", async () => {
    const { mirror, told, connect } = mirrorWith(20_000);
    const connection = connect();
    await vi.advanceTimersByTimeAsync(0);
    expect(told).toEqual([[alice, "online", undefined]]);

    await vi.advanceTimersByTimeAsync(19_000);
    expect(told).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(6_000);
    expect(told).toHaveLength(2);
    // Every 20 s (checked every 5 s): always inside Synapse's 30 s.
    await vi.advanceTimersByTimeAsync(60_000);
    expect(told.length).toBeGreaterThanOrEqual(5);
    expect(told.every(([, presence]) => presence === "online")).toBe(true);
    const gaps = told.length;

    mirror.removeConnection(connection);
    await vi.advanceTimersByTimeAsync(1_000); // the grace period: then offline, once
    expect(told.slice(gaps).map(([, presence]) => presence)).toEqual(["offline"]);
    await vi.advanceTimersByTimeAsync(120_000);
    expect(told).toHaveLength(gaps + 1);
    await mirror.stopPresence();
  });

  it("repeats a chosen status with its message, and never an invisible one", async () => {
    const dnd = mirrorWith(20_000, "dnd");
    dnd.connect();
    await vi.advanceTimersByTimeAsync(45_000);
    expect(dnd.told.length).toBeGreaterThanOrEqual(2);
    expect(new Set(dnd.told.map((t) => t.join("|")))).toEqual(
      new Set([`${alice}|unavailable|Do not disturb`]),
    );
    await dnd.mirror.stopPresence();

    const invisible = mirrorWith(20_000, "invisible");
    invisible.connect();
    await vi.advanceTimersByTimeAsync(0);
    invisible.mirror.showChosen(alice, "invisible");
    await vi.advanceTimersByTimeAsync(0);
    const told = invisible.told.length;
    await vi.advanceTimersByTimeAsync(90_000);
    expect(invisible.told).toHaveLength(told);
    expect(invisible.told.every(([, presence]) => presence === "offline")).toBe(true);
    await invisible.mirror.stopPresence();
  });

  it("never tells again with a refresh of 0, nor after stopping", async () => {
    const off = mirrorWith(0);
    off.connect();
    await vi.advanceTimersByTimeAsync(120_000);
    expect(off.told).toHaveLength(1);

    const stopped = mirrorWith(20_000);
    stopped.connect();
    await vi.advanceTimersByTimeAsync(0);
    await stopped.mirror.stopPresence();
    await vi.advanceTimersByTimeAsync(120_000);
    expect(stopped.told).toHaveLength(1);
  });
});
