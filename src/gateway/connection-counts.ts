// Open connections by key: counted per client address (for the per-address cap), and listed per
// user in the order they authenticated (at the per-user cap the oldest one makes way).
import { Bag } from "../shared/bag.ts";

export class ConnectionCounts {
  readonly #counts = new Map<string, number>();

  count(key: string): number {
    return this.#counts.get(key) ?? 0;
  }

  add(key: string): void {
    this.#counts.set(key, this.count(key) + 1);
  }

  remove(key: string): void {
    const next = this.count(key) - 1;
    if (next > 0) this.#counts.set(key, next);
    else this.#counts.delete(key);
  }
}

export class ConnectionsByUser<C extends object> {
  readonly #byUser = new Bag<string, C>();

  count(userId: string): number {
    return this.#byUser.size(userId);
  }

  /** The user's connection that authenticated first. */
  oldest(userId: string): C | undefined {
    return this.#byUser.first(userId);
  }

  add(userId: string, connection: C): void {
    this.#byUser.add(userId, connection);
  }

  remove(userId: string, connection: C): void {
    this.#byUser.delete(userId, connection);
  }
}
