// Logged events reach this node in any order: its own at once, other nodes' over the bus. Each
// channel's are passed on here strictly in event_id order, each once. A gap (an event that is
// late, or whose message the bus lost) is waited for briefly, then read from the store, where a
// committed event with a higher id guarantees every lower one is committed too.
import type { Logger } from "../logging.ts";
import type { ChatEvent } from "../protocol/events.ts";
import { type EventPublisher, toChatEvent } from "./event-log.ts";
import type { ChannelRow, Store } from "./ports/store.ts";

export interface EventStream {
  /** A newly logged event of `channel`, from this node or another. */
  received(channel: ChannelRow, event: ChatEvent): void;
  /** Passes on whatever the store has beyond what was passed on (after the bus was away). */
  catchUp(): Promise<void>;
  stop(): void;
}

/** How long a gap may stay open before it is filled from the store. */
export const GAP_WAIT_MS = 100;
/** Channels quiet this long are forgotten (the next event starts them again). */
const IDLE_MS = 10 * 60_000;

interface ChannelStream {
  channel: ChannelRow;
  /** The event_id to pass on next. */
  next: number;
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

  const passOn = (stream: ChannelStream) => {
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
    if (stream.held.size > 0 && !stream.timer && !stream.filling) {
      stream.timer = setTimeout(() => {
        stream.timer = undefined;
        fill(stream).catch((error: unknown) =>
          log.warn(`filling a gap in ${stream.channel.name} failed`, error),
        );
      }, gapWaitMs);
      stream.timer.unref();
    }
  };

  /** Reads the events from `next` up to `through` from the store, and passes them on. */
  const fill = async (stream: ChannelStream, through?: number) => {
    if (stream.filling) return;
    stream.filling = true;
    try {
      const upTo = through ?? Math.min(...stream.held.keys()) - 1;
      while (stream.next <= upTo) {
        const missing = upTo - stream.next + 1;
        const stored = await store.eventsBetween(
          stream.channel.id,
          { after: stream.next - 1, before: upTo + 1 },
          Math.min(missing, 500),
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
        passOn(stream);
      }
    } finally {
      stream.filling = false;
    }
    passOn(stream);
  };

  const sweep = setInterval(() => {
    const now = Date.now();
    for (const [id, stream] of streams) {
      if (stream.held.size === 0 && !stream.filling && now - stream.lastAt > IDLE_MS) streams.delete(id);
    }
  }, IDLE_MS);
  sweep.unref();

  return {
    received(channel, event) {
      let stream = streams.get(channel.id);
      if (!stream) {
        stream = {
          channel,
          next: event.event_id,
          held: new Map(),
          timer: undefined,
          filling: false,
          lastAt: 0,
        };
        streams.set(channel.id, stream);
      }
      stream.lastAt = Date.now();
      if (event.event_id < stream.next) return; // passed on already
      stream.channel = channel;
      stream.held.set(event.event_id, event);
      passOn(stream);
    },
    async catchUp() {
      for (const stream of [...streams.values()]) {
        const newest = await store.newestEvent(stream.channel.id);
        if (newest && newest.seq >= stream.next) await fill(stream, newest.seq);
      }
    },
    stop() {
      clearInterval(sweep);
      for (const stream of streams.values()) clearTimeout(stream.timer);
      streams.clear();
    },
  };
}
