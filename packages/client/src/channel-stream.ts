// Exactly once, in order, per channel: the events a channel delivers to the application, whether
// they arrive as pushes or from the fetches that fill a gap after a reconnect.
import type { ChatEvent } from "./types.ts";

export class ChannelStream {
  /** The highest event_id delivered; undefined before the first. */
  last: number | undefined;
  #recovering = false;
  #buffer: ChatEvent[] = [];

  constructor(last?: number) {
    this.last = last;
  }

  get recovering(): boolean {
    return this.#recovering;
  }

  /** Pushes that arrive while a gap is being fetched wait; the gap comes first. */
  beginRecovery(): void {
    this.#recovering = true;
  }

  /** Returns the events to deliver now, in order, never one twice. */
  accept(events: readonly ChatEvent[], fromRecovery = false): ChatEvent[] {
    if (this.#recovering && !fromRecovery) {
      this.#buffer.push(...events);
      return [];
    }
    return this.#take(events);
  }

  /** The gap is filled: what was buffered meanwhile, without what the fetch already delivered. */
  endRecovery(): ChatEvent[] {
    this.#recovering = false;
    const buffered = this.#buffer;
    this.#buffer = [];
    return this.#take(buffered);
  }

  #take(events: readonly ChatEvent[]): ChatEvent[] {
    const fresh = [...events].sort((a, b) => a.event_id - b.event_id);
    const out: ChatEvent[] = [];
    for (const event of fresh) {
      if (this.last !== undefined && event.event_id <= this.last) continue;
      this.last = event.event_id;
      out.push(event);
    }
    return out;
  }
}
