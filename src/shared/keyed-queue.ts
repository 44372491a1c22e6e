// Runs work one at a time per key (a room, a channel), in call order. A failure is returned to its
// caller only: the queue itself never holds a rejected promise, so nothing goes unhandled and the
// next piece of work still runs.
const settle = (): void => undefined;

export class KeyedQueue<K> {
  readonly #tails = new Map<K, Promise<void>>();

  run<T>(key: K, work: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    const result = previous.then(work);
    const tail = result.then(settle, settle);
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return result;
  }

  /** Keys with work queued or running. */
  get size(): number {
    return this.#tails.size;
  }
}
