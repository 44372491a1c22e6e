// Open connections counted by key (a client address, a user), for the per-address and per-user
// caps. Keys leave the map when their count drops to zero.
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
