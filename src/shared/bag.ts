// A multimap that stores a key's only value as itself and grows a Set from the second one. The
// gateway keeps several of these per connection (by user, by channel): with tens of thousands of
// connections, one Set each (about 150 bytes with its table) is most of what a connection costs.
// Values keep their insertion order; values must not themselves be Sets.
export class Bag<K, V extends object | string> {
  readonly #entries = new Map<K, V | Set<V>>();

  add(key: K, value: V): void {
    const held = this.#entries.get(key);
    if (held === undefined) this.#entries.set(key, value);
    else if (held instanceof Set) held.add(value);
    else if (held !== value) this.#entries.set(key, new Set([held, value]));
  }

  /** Removes one value; true if it was there. */
  delete(key: K, value: V): boolean {
    const held = this.#entries.get(key);
    if (held === undefined) return false;
    if (held instanceof Set) {
      if (!held.delete(value)) return false;
      if (held.size === 1) this.#entries.set(key, held.values().next().value as V);
      return true;
    }
    if (held !== value) return false;
    this.#entries.delete(key);
    return true;
  }

  has(key: K, value: V): boolean {
    const held = this.#entries.get(key);
    return held instanceof Set ? held.has(value) : held === value && held !== undefined;
  }

  size(key: K): number {
    const held = this.#entries.get(key);
    return held === undefined ? 0 : held instanceof Set ? held.size : 1;
  }

  /** The key's values, oldest first (a copy when changed while iterating is a risk). */
  *values(key: K): IterableIterator<V> {
    const held = this.#entries.get(key);
    if (held === undefined) return;
    if (held instanceof Set) yield* held;
    else yield held;
  }

  forEach(key: K, each: (value: V) => void): void {
    const held = this.#entries.get(key);
    if (held === undefined) return;
    if (held instanceof Set) for (const value of held) each(value);
    else each(held);
  }

  first(key: K): V | undefined {
    const held = this.#entries.get(key);
    return held instanceof Set ? (held.values().next().value as V | undefined) : held;
  }

  /** The keys that hold values. */
  keys(): IterableIterator<K> {
    return this.#entries.keys();
  }

  /** Removes the key with all its values. */
  clear(key: K): void {
    this.#entries.delete(key);
  }
}
