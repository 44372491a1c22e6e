// A fake WebSocket and clock for the client's unit tests: the test plays the server.
import type { Clock } from "../../../packages/client/src/clock.ts";
import type { SocketLike } from "../../../packages/client/src/socket.ts";

export class FakeSocket implements SocketLike {
  static instances: FakeSocket[] = [];
  readonly url: string;
  readyState = 0;
  readonly sent: unknown[][] = [];
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;

  constructor(url: string) {
    this.url = url;
    FakeSocket.instances.push(this);
  }

  static latest(): FakeSocket {
    const socket = FakeSocket.instances.at(-1);
    if (!socket) throw new Error("no socket yet");
    return socket;
  }

  send(data: string): void {
    this.sent.push(JSON.parse(data) as unknown[]);
  }

  close(code = 1000, reason = ""): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }

  // --- the server's side ---
  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }

  push(frame: unknown[]): void {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }

  /** The requests (with refs) sent for an action, oldest first. */
  requests(action: string): Array<{ ref: number; payload: Record<string, unknown> }> {
    return this.sent
      .filter((f) => f[0] === action && f.length === 3)
      .map((f) => ({ ref: f[1] as number, payload: f[2] as Record<string, unknown> }));
  }

  reply(action: string, result: unknown, index = -1): void {
    const request = this.requests(action).at(index);
    if (!request) throw new Error(`no ${action} request to reply to; sent: ${JSON.stringify(this.sent)}`);
    this.push(["success", request.ref, result]);
  }

  fail(action: string, error: Record<string, unknown>): void {
    const request = this.requests(action).at(-1);
    if (!request) throw new Error(`no ${action} request`);
    this.push(["error", request.ref, error]);
  }
}

/** Timers run only when the test advances time. */
export class FakeClock implements Clock {
  time = 1_000_000;
  randomValue = 0.5;
  #timers = new Map<number, { at: number; callback: () => void }>();
  #next = 1;

  now(): number {
    return this.time;
  }
  random(): number {
    return this.randomValue;
  }
  setTimeout(callback: () => void, ms: number): unknown {
    const id = this.#next++;
    this.#timers.set(id, { at: this.time + ms, callback });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.#timers.delete(handle as number);
  }
  /** The delays of timers pending now, soonest first. */
  pending(): number[] {
    return [...this.#timers.values()].map((t) => t.at - this.time).sort((a, b) => a - b);
  }
  advance(ms: number): void {
    const until = this.time + ms;
    for (;;) {
      const due = [...this.#timers.entries()]
        .filter(([, t]) => t.at <= until)
        .sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.#timers.delete(due[0]);
      this.time = due[1].at;
      due[1].callback();
    }
    this.time = until;
  }
}

export const flush = () => new Promise((resolve) => setImmediate(resolve));
