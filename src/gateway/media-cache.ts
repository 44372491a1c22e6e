// Homeserver media as served to clients: at most `concurrency` downloads stream at once (the rest
// wait in a bounded line), and small files recently served are kept in memory, least recently
// used first out. Nothing here holds a large file: those only stream through.
import type { DownloadedMedia } from "../domain/ports/matrix.ts";

export interface CachedMedia {
  readonly data: Buffer;
  readonly contentType: string;
}

export class MediaCache {
  readonly #entries = new Map<string, CachedMedia>();
  readonly #capacity: number;
  #bytes = 0;

  constructor(capacityBytes: number) {
    this.#capacity = capacityBytes;
  }

  /** Files up to this size are worth keeping. */
  get maxEntryBytes(): number {
    return Math.floor(this.#capacity / 16);
  }

  get(key: string): CachedMedia | undefined {
    const entry = this.#entries.get(key);
    if (entry) {
      this.#entries.delete(key);
      this.#entries.set(key, entry);
    }
    return entry;
  }

  put(key: string, entry: CachedMedia): void {
    if (entry.data.length > this.maxEntryBytes || this.#entries.has(key)) return;
    this.#entries.set(key, entry);
    this.#bytes += entry.data.length;
    for (const [oldest, old] of this.#entries) {
      if (this.#bytes <= this.#capacity) break;
      this.#entries.delete(oldest);
      this.#bytes -= old.data.length;
    }
  }
}

/** A counting semaphore with a bounded line: `acquire` fails fast when the line is full. */
export class DownloadSlots {
  readonly #limit: number;
  readonly #maxWaiting: number;
  #active = 0;
  readonly #waiting: Array<() => void> = [];

  constructor(limit: number, maxWaiting: number) {
    this.#limit = limit;
    this.#maxWaiting = maxWaiting;
  }

  /** Resolves with a release function, or with undefined when too many are waiting already. */
  async acquire(): Promise<(() => void) | undefined> {
    if (this.#active >= this.#limit) {
      if (this.#waiting.length >= this.#maxWaiting) return undefined;
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } else this.#active += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiting.shift();
      if (next) next();
      else this.#active -= 1;
    };
  }
}

export type { DownloadedMedia };
