// A native test client speaking the wire protocol over a real WebSocket.
import { decode as decodeMsgpack, encode as encodeMsgpack } from "@msgpack/msgpack";
import WebSocket from "ws";

export type Frame = unknown[];
export type Reply =
  | { ok: true; result: Record<string, unknown> }
  | { ok: false; error: Record<string, unknown> };

interface Waiter {
  predicate: (frame: Frame) => boolean;
  resolve: (frame: Frame) => void;
}

/** The body of a message event (undefined for member events). */
export const bodyOf = (event: Record<string, unknown>): string | undefined =>
  (event.content as { body?: string } | undefined)?.body;

export class TestClient {
  readonly received: Frame[] = [];
  /** How many frames arrived as MessagePack (binary) rather than JSON. */
  binaryFrames = 0;
  #msgpack = false;
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly #ws: WebSocket;
  #waiters: Waiter[] = [];
  #nextRef = 1;

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    this.closed = new Promise((resolve) =>
      ws.on("close", (code, reason) => resolve({ code, reason: reason.toString() })),
    );
    ws.on("message", (data, isBinary) => {
      const frame = (isBinary ? decodeMsgpack(data as Buffer) : JSON.parse(data.toString())) as Frame;
      if (isBinary) this.binaryFrames += 1;
      this.received.push(frame);
      this.#waiters = this.#waiters.filter((waiter) => {
        if (!waiter.predicate(frame)) return true;
        waiter.resolve(frame);
        return false;
      });
    });
  }

  static async connect(url: string): Promise<TestClient> {
    const ws = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    return new TestClient(ws);
  }

  /** Connects and authenticates; throws unless the reply is `authenticated`. */
  static async login(
    url: string,
    credentials: ({ token: string } | { client_id: string }) & { batch_member_events?: boolean },
  ): Promise<TestClient> {
    const client = await TestClient.connect(url);
    const reply = await client.authenticate(credentials);
    if (reply[0] !== "authenticated") throw new Error(`login failed: ${JSON.stringify(reply)}`);
    return client;
  }

  get isOpen(): boolean {
    return this.#ws.readyState === WebSocket.OPEN;
  }

  sendRaw(data: string | Buffer): void {
    this.#ws.send(data);
  }

  send(frame: Frame): void {
    this.#ws.send(this.#msgpack ? encodeMsgpack(frame) : JSON.stringify(frame));
  }

  /** From now on, send MessagePack (binary) frames, as a MessagePack client would. */
  useMessagePack(): void {
    this.#msgpack = true;
  }

  waitFor(predicate: (frame: Frame) => boolean, timeoutMs = 10_000, description = "a frame"): Promise<Frame> {
    const seen = this.received.find(predicate);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `timed out waiting for ${description}; received ${JSON.stringify(this.received.slice(-5))}`,
            ),
          ),
        timeoutMs,
      );
      this.#waiters.push({
        predicate,
        resolve: (frame) => {
          clearTimeout(timer);
          resolve(frame);
        },
      });
    });
  }

  /** Waits for a frame that arrives from now on (ignores what was already received). */
  waitForNext(
    predicate: (frame: Frame) => boolean,
    timeoutMs = 10_000,
    description = "a frame",
  ): Promise<Frame> {
    const already = this.received.length;
    return this.waitFor(
      (frame) => this.received.indexOf(frame) >= already && predicate(frame),
      timeoutMs,
      description,
    );
  }

  async authenticate(payload: Record<string, unknown>): Promise<Frame> {
    const already = this.received.length;
    this.send(["authenticate", payload]);
    return this.waitFor(
      (frame) =>
        this.received.indexOf(frame) >= already &&
        (frame[0] === "authenticated" || (frame[0] === "error" && frame.length === 2)),
      10_000,
      "the authenticate reply",
    );
  }

  /** Sends a request and resolves with its reply (success or error), matched by ref. */
  async request(action: string, payload: Record<string, unknown>, timeoutMs = 15_000): Promise<Reply> {
    const ref = `r${this.#nextRef++}`;
    const already = this.received.length;
    this.send([action, ref, payload]);
    const frame = await this.waitFor(
      (f) => (f[0] === "success" || f[0] === "error") && f[1] === ref && this.received.indexOf(f) >= already,
      timeoutMs,
      `the reply to ${action} #${ref}`,
    );
    return frame[0] === "success"
      ? { ok: true, result: frame[2] as Record<string, unknown> }
      : { ok: false, error: frame[2] as Record<string, unknown> };
  }

  /** A request that must succeed; returns its result. */
  async ok(action: string, payload: Record<string, unknown>): Promise<Record<string, unknown>> {
    const reply = await this.request(action, payload);
    if (!reply.ok) throw new Error(`${action} failed: ${JSON.stringify(reply.error)}`);
    return reply.result;
  }

  /** A request that must fail; returns its error code. */
  async errorCode(action: string, payload: Record<string, unknown>): Promise<string> {
    const reply = await this.request(action, payload);
    if (reply.ok) throw new Error(`${action} unexpectedly succeeded: ${JSON.stringify(reply.result)}`);
    return String(reply.error.code);
  }

  /** The channel's log after `after` (0: all of it), every page of it, oldest first. */
  async fetchAll(channel: string, after = 0): Promise<Array<Record<string, unknown>>> {
    const all: Array<Record<string, unknown>> = [];
    for (;;) {
      const page = (await this.ok("chat.fetch", { channel, after_id: after, count: 200 })).results as Array<
        Record<string, unknown>
      >;
      if (page.length === 0) return all;
      all.push(...page);
      after = page.at(-1)?.event_id as number;
    }
  }

  /** The chat.event pushes received so far, optionally for one channel. */
  events(channel?: string): Array<Record<string, unknown>> {
    return this.received
      .filter((f) => f[0] === "chat.event")
      .map((f) => f[1] as Record<string, unknown>)
      .filter((e) => channel === undefined || e.channel === channel);
  }

  waitForEvent(
    predicate: (event: Record<string, unknown>) => boolean,
    timeoutMs = 10_000,
    description = "a chat.event",
  ) {
    return this.waitFor(
      (f) => f[0] === "chat.event" && predicate(f[1] as Record<string, unknown>),
      timeoutMs,
      description,
    ).then((f) => f[1] as Record<string, unknown>);
  }

  /** Sends a text message that must succeed; returns the event as broadcast. */
  async say(
    channel: string,
    body: string,
    extra: Record<string, unknown> = {},
  ): Promise<Record<string, unknown>> {
    const result = await this.ok("chat.send", {
      channel,
      event_type: "channel.message",
      content: { type: "text", body },
      ...extra,
    });
    return result.event as Record<string, unknown>;
  }

  async ping(): Promise<void> {
    const ts = Date.now() + Math.random();
    this.send(["ping", ts]);
    await this.waitFor((f) => f[0] === "pong" && f[1] === ts, 5_000, "pong");
  }

  close(): void {
    this.#ws.close();
  }
}
