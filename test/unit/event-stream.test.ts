// The event stream passes each channel's events on in event_id order, once, however they arrive:
// late ones are waited for, lost ones read from the store, a channel first met on the bus starts
// at the lowest event of its first wait, and a subscriber's snapshot fixes where it starts.
import { describe, expect, it } from "vitest";
import { createEventStream } from "../../src/domain/event-stream.ts";
import type { ChannelRow, Store, StoredEvent } from "../../src/domain/ports/store.ts";
import type { ChatEvent } from "../../src/protocol/events.ts";
import { asChannelName, asEventSeq, asRoomId } from "../../src/protocol/ids.ts";

const channel: ChannelRow = {
  id: 1,
  name: asChannelName("c"),
  roomId: asRoomId("!c:x"),
  alias: "#c:x",
  createdAt: 0,
  joinRule: "public",
  powerLevels: null,
  topic: null,
};
const stored = (seq: number): StoredEvent => ({
  channelId: 1,
  seq: asEventSeq(seq),
  matrixEventId: null,
  eventType: "channel.message",
  sender: null,
  content: { type: "text", body: `m${seq}` },
  ts: seq,
  replyTo: null,
  replaces: null,
  edited: false,
});
const event = (seq: number) =>
  ({
    channel: "c",
    event_type: "channel.message",
    event_id: seq,
    ts: seq,
    content: { type: "text", body: `m${seq}` },
  }) as unknown as ChatEvent;

/** A store holding events 1..newest of channel 1 (only what the stream reads). */
function storeWith(newest: number): Store {
  return {
    channelById: async () => channel,
    newestEvent: async () => stored(newest),
    eventsBetween: async (_id: number, range: { after?: number; before?: number }, count: number) => {
      const out: StoredEvent[] = [];
      for (
        let seq = (range.after ?? 0) + 1;
        seq < (range.before ?? newest + 1) && out.length < count;
        seq++
      ) {
        if (seq <= newest) out.push(stored(seq));
      }
      return out;
    },
  } as unknown as Store;
}

const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function setUp(newest: number) {
  const delivered: number[] = [];
  const warnings: string[] = [];
  const stream = createEventStream({
    store: storeWith(newest),
    deliver: (_c, e) => delivered.push(e.event_id),
    log: {
      debug() {},
      info() {},
      warn: (message) => warnings.push(message),
      error: (message) => warnings.push(message),
    },
    gapWaitMs: 20,
  });
  return { stream, delivered, warnings };
}

describe("the event stream", () => {
  it("starts a channel first met on the bus at the lowest event of its first wait", async () => {
    const { stream, delivered } = setUp(12);
    stream.receivedElsewhere(1, event(11));
    stream.receivedElsewhere(1, event(10));
    stream.receivedElsewhere(1, event(12));
    await settle(60);
    expect(delivered).toEqual([10, 11, 12]);
    stream.stop();
  });

  it("waits for a late event, fills a lost one from the store, and passes nothing twice", async () => {
    const { stream, delivered, warnings } = setUp(6);
    stream.follow(channel, 1);
    stream.received(channel, event(1));
    stream.received(channel, event(3)); // 2 is late
    stream.received(channel, event(2));
    await settle(40); // the wait for the gap ends after it closed by itself: nothing to fill
    stream.received(channel, event(2)); // again
    stream.received(channel, event(6)); // 4 and 5 never come: read from the store
    await settle(60);
    expect(delivered).toEqual([1, 2, 3, 4, 5, 6]);
    expect(warnings).toEqual([]);
    stream.stop();
  });

  it("starts where a subscriber's snapshot says, keeping a joiner's own join logged just before", async () => {
    const { stream, delivered } = setUp(8);
    stream.received(channel, event(7)); // the join, logged before the snapshot was read
    stream.follow(channel, 8);
    stream.received(channel, event(8));
    await settle(40);
    expect(delivered).toEqual([7, 8]);
    stream.stop();
  });

  it("catches up from the store what the bus lost while it was away", async () => {
    const { stream, delivered } = setUp(5);
    stream.follow(channel, 1);
    stream.received(channel, event(1));
    stream.received(channel, event(2));
    await stream.catchUp();
    expect(delivered).toEqual([1, 2, 3, 4, 5]);
    stream.stop();
  });
});
