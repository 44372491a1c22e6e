// Open connections by key: counted per client address (for the per-address cap), and listed per
// user in the order they authenticated (at the per-user cap the oldest one makes way).
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

export class ConnectionsByUser<C> {
  readonly #byUser = new Map<string, Set<C>>();

  count(userId: string): number {
    return this.#byUser.get(userId)?.size ?? 0;
  }

  /** The user's connection that authenticated first. */
  oldest(userId: string): C | undefined {
    return this.#byUser.get(userId)?.values().next().value;
  }

  add(userId: string, connection: C): void {
    let set = this.#byUser.get(userId);
    if (!set) {
      set = new Set();
      this.#byUser.set(userId, set);
    }
    set.add(connection);
  }

  remove(userId: string, connection: C): void {
    const set = this.#byUser.get(userId);
    if (set?.delete(connection) && set.size === 0) this.#byUser.delete(userId);
  }
}
