// Requests in flight and waiting: refs, replies, timeouts, and what happens to them when the
// connection drops (resent after reconnecting, unless unsafe to repeat).
import type { Clock } from "./clock.ts";
import { ParleyError } from "./errors.ts";

interface Pending {
  readonly action: string;
  readonly payload: Record<string, unknown>;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: ParleyError) => void;
  timer: unknown;
}

/** Actions not safe to send twice; if the connection drops before their reply, they fail. */
const NOT_RETRIED = new Set(["chat.timeout", "user.ban", "user.silence", "user.reactivate"]);

export class Requests {
  readonly #clock: Clock;
  readonly #timeoutMs: number;
  #nextRef = 1;
  readonly #inFlight = new Map<number, Pending>();
  #waiting: Pending[] = [];

  constructor(clock: Clock, timeoutMs: number) {
    this.#clock = clock;
    this.#timeoutMs = timeoutMs;
  }

  /** A new request; it waits until `sendWaiting` while there is no connection. */
  add(
    action: string,
    payload: Record<string, unknown>,
    send: ((frame: string) => void) | undefined,
  ): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const pending: Pending = { action, payload, resolve, reject, timer: undefined };
      if (send) this.#send(pending, send);
      else this.#waiting.push(pending);
    });
  }

  /** Sends everything that waited for a connection. */
  sendWaiting(send: (frame: string) => void): void {
    for (const pending of this.#waiting.splice(0)) this.#send(pending, send);
  }

  /** A reply frame arrived; false if no request has that ref. */
  settle(ref: number, ok: boolean, result: unknown): boolean {
    const pending = this.#inFlight.get(ref);
    if (!pending) return false;
    this.#inFlight.delete(ref);
    this.#clock.clearTimeout(pending.timer);
    if (ok) pending.resolve(result);
    else pending.reject(ParleyError.from(result));
    return true;
  }

  /** The connection dropped: in-flight requests wait for the next one, or fail if unsafe. */
  connectionLost(): void {
    for (const pending of this.#inFlight.values()) {
      this.#clock.clearTimeout(pending.timer);
      if (NOT_RETRIED.has(pending.action)) {
        pending.reject(new ParleyError("connection.closed", "The connection closed before the reply."));
      } else this.#waiting.push(pending);
    }
    this.#inFlight.clear();
  }

  failAll(error: ParleyError): void {
    for (const pending of [...this.#inFlight.values(), ...this.#waiting.splice(0)]) {
      this.#clock.clearTimeout(pending.timer);
      pending.reject(error);
    }
    this.#inFlight.clear();
  }

  #send(pending: Pending, send: (frame: string) => void): void {
    const ref = this.#nextRef++;
    this.#inFlight.set(ref, pending);
    pending.timer = this.#clock.setTimeout(() => {
      this.#inFlight.delete(ref);
      pending.reject(new ParleyError("connection.timeout", `No reply to ${pending.action} in time.`));
    }, this.#timeoutMs);
    send(JSON.stringify([pending.action, ref, pending.payload]));
  }
}
