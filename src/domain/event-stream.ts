// Logged events reach this node in any order: its own at once, other nodes' over the bus. Each
// channel's are passed on here strictly in event_id order, each once. A gap (an event that is
// late, or whose message the bus lost) is waited for briefly, then read from the store, where a
// committed event with a higher id guarantees every lower one is committed too. A channel's
// stream starts where a subscriber's snapshot said (`follow`), or, for a channel first met on the
// bus, at the lowest event seen within the first wait.
import type { Logger } from "../logging.ts";
import type { ChatEvent } from "../protocol/events.ts";
import { type EventPublisher, toChatEvent } from "./event-log.ts";
import type { ChannelRow, Store } from "./ports/store.ts";

export interface EventStream {
  /** A newly logged event of `channel`, logged on this node. */
  received(channel: ChannelRow, event: ChatEvent): void;
  /** A newly logged event another node announced (the channel is looked up here). */
  receivedElsewhere(channelId: number, event: ChatEvent): void;
  /** A subscriber here expects the channel's events from `nextSeq` on (its snapshot's next_event_id). */
  follow(channel: ChannelRow, nextSeq: number): void;
  /** Passes on whatever the store has beyond what was passed on (after the bus was away). */
  catchUp(): Promise<void>;
  stop(): void;
}

/** How long a gap may stay open before it is filled from the store. */
export const GAP_WAIT_MS = 100;
/** How often active channels are compared with the store (a publish the bus lost, say). */
const CHECK_EVERY_MS = 10_000;
/** Channels with an event this recent are compared. */
const ACTIVE_MS = 10 * 60_000;

interface ChannelStream {
  channel: ChannelRow;
  /** The event_id to pass on next; undefined until the stream's start is known. */
  next: number | undefined;
  readonly held: Map<number, ChatEvent>;
  timer: NodeJS.Timeout | undefined;
  filling: boolean;
  lastAt: number;
}

export function createEventStream(deps: {
  readonly store: Store;
  readonly deliver: EventPublisher;
  readonly log: Logger;
  readonly gapWaitMs?: number;
}): EventStream {
  const { store, deliver, log } = deps;
  const gapWaitMs = deps.gapWaitMs ?? GAP_WAIT_MS;
  const streams = new Map<number, ChannelStream>();
  /** Per channel, the lookup of other nodes' events, one after another (keeps the bus's order). */
  const lookups = new Map<number, Promise<void>>();

  const streamOf = (channel: ChannelRow): ChannelStream => {
    let stream = streams.get(channel.id);
    if (!stream) {
      stream = { channel, next: undefined, held: new Map(), timer: undefined, filling: false, lastAt: 0 };
      streams.set(channel.id, stream);
    }
    stream.channel = channel;
    return stream;
  };

  const arm = (stream: ChannelStream) => {
    if (stream.timer || stream.filling) return;
    stream.timer = setTimeout(() => {
      stream.timer = undefined;
      // The gap closed by itself meanwhile.
      if (stream.held.size === 0) return;
      if (stream.next === undefined) {
        // First met on the bus: start at the lowest event that arrived in the first wait.
        stream.next = Math.min(...stream.held.keys());
        passOn(stream);
        return;
      }
      fill(stream).catch((error: unknown) => {
        log.warn(`filling a gap in ${stream.channel.name} failed; trying again`, error);
        arm(stream);
      });
    }, gapWaitMs);
    stream.timer.unref();
  };

  const passOn = (stream: ChannelStream) => {
    if (stream.next === undefined) {
      if (stream.held.size > 0) arm(stream);
      return;
    }
    for (;;) {
      const event = stream.held.get(stream.next);
      if (!event) break;
      stream.held.delete(stream.next);
      stream.next++;
      try {
        deliver(stream.channel, event);
      } catch (error) {
        log.error(`passing on event ${event.event_id} of ${stream.channel.name} failed`, error);
      }
    }
    if (stream.held.size > 0) arm(stream);
  };

  /** Reads the events from `next` up to `through` from the store, and passes them on. */
  const fill = async (stream: ChannelStream, through?: number) => {
    if (stream.filling || stream.next === undefined) return;
    if (through === undefined && stream.held.size === 0) return;
    stream.filling = true;
    try {
      const upTo = through ?? Math.min(...stream.held.keys()) - 1;
      while (stream.next <= upTo) {
        const stored = await store.eventsBetween(
          stream.channel.id,
          { after: stream.next - 1, before: upTo + 1 },
          Math.min(upTo - stream.next + 1, 500),
          false,
        );
        if (stored.length === 0) {
          // Not in the store: that id was never committed (cannot happen with gapless ids); go on.
          log.warn(`events ${stream.next}-${upTo} of ${stream.channel.name} are missing; passing over them`);
          stream.next = upTo + 1;
          break;
        }
        for (const event of stored) {
          if (event.seq >= stream.next) stream.held.set(event.seq, toChatEvent(stream.channel, event));
        }
        stream.filling = false;
        passOn(stream);
        stream.filling = true;
      }
    } finally {
      stream.filling = false;
    }
    passOn(stream);
  };

  const accept = (channel: ChannelRow, event: ChatEvent) => {
    const stream = streamOf(channel);
    stream.lastAt = Date.now();
    if (stream.next !== undefined && event.event_id < stream.next) return; // passed on already
    stream.held.set(event.event_id, event);
    passOn(stream);
  };

  const catchUp = async () => {
    const now = Date.now();
    for (const stream of [...streams.values()]) {
      if (stream.next === undefined || now - stream.lastAt > ACTIVE_MS) continue;
      const newest = await store.newestEvent(stream.channel.id);
      if (newest && newest.seq >= stream.next) await fill(stream, newest.seq);
    }
  };
  const checker = setInterval(() => {
    catchUp().catch((error: unknown) => log.warn("comparing channels with the store failed", error));
  }, CHECK_EVERY_MS);
  checker.unref();

  return {
    received: accept,
    receivedElsewhere(channelId, event) {
      const previous = lookups.get(channelId) ?? Promise.resolve();
      const next = previous
        .then(async () => {
          const channel = await store.channelById(channelId);
          if (channel) accept(channel, event);
        })
        .catch((error: unknown) =>
          log.warn(`event ${event.event_id} of channel ${channelId} not passed on`, error),
        );
      lookups.set(channelId, next);
      void next.then(() => {
        if (lookups.get(channelId) === next) lookups.delete(channelId);
      });
    },
    follow(channel, nextSeq) {
      const stream = streamOf(channel);
      stream.lastAt = Date.now();
      if (stream.next !== undefined) return;
      // Events already here and below the snapshot's id are newer than anything passed on: keep
      // them (a joiner's own join, logged just before its snapshot was read).
      stream.next = Math.min(nextSeq, ...stream.held.keys());
      clearTimeout(stream.timer);
      stream.timer = undefined;
      passOn(stream);
    },
    catchUp,
    stop() {
      clearInterval(checker);
      for (const stream of streams.values()) clearTimeout(stream.timer);
      streams.clear();
    },
  };
}
