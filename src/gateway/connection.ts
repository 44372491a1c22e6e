// One WebSocket connection: reads frames, runs them through the router one at a time (so a client's
// join is done before its send), and writes replies and pushes with a bounded send buffer.
import type { WebSocket } from "ws";
import type { FanOut, Subscriber } from "../domain/fanout-port.ts";
import type { AuthUser, Session } from "../handlers/context.ts";
import type { Router } from "../handlers/router.ts";
import { CLOSE_CODES, type CloseCodeName } from "../protocol/close-codes.ts";
import { ProtocolError } from "../protocol/errors.ts";
import {
  decodeBinaryFrame,
  decodeFrame,
  EncodedFrame,
  errorFrame,
  type OutgoingFrame,
} from "../protocol/frames.ts";
import type { ChannelName } from "../protocol/ids.ts";

export interface ConnectionLimits {
  readonly maxBufferedBytes: number;
  readonly authTimeoutMs: number;
  readonly maxPendingRequests: number;
}

export class Connection implements Session {
  readonly connectionId: number;
  user: AuthUser | undefined;
  readonly #ws: WebSocket;
  readonly #router: Router;
  readonly #fanout: FanOut;
  readonly #limits: ConnectionLimits;
  #subscriber: Subscriber | undefined;
  #queue: Promise<void> = Promise.resolve();
  #pending = 0;
  #authTimer: NodeJS.Timeout | undefined;
  /** Set by the first binary frame: from then on this connection is answered in MessagePack. */
  #binary = false;

  constructor(id: number, ws: WebSocket, router: Router, fanout: FanOut, limits: ConnectionLimits) {
    this.connectionId = id;
    this.#ws = ws;
    this.#router = router;
    this.#fanout = fanout;
    this.#limits = limits;
    this.#authTimer = setTimeout(() => this.close("authTimeout"), limits.authTimeoutMs);
    ws.on("message", (data, isBinary) => this.#onMessage(data as Buffer, isBinary));
    ws.on("close", () => this.#onClose());
    ws.on("error", () => ws.terminate());
  }

  authenticate(user: AuthUser, options: { batchMemberEvents?: boolean } = {}): void {
    this.user = user;
    clearTimeout(this.#authTimer);
    const deliver = (frame: EncodedFrame) => this.#write(frame);
    this.#subscriber = {
      id: this.connectionId,
      userId: user.userId,
      batchesMemberEvents: options.batchMemberEvents === true,
      deliver,
    };
    this.#fanout.addConnection(this.#subscriber);
  }

  subscribe(channel: ChannelName): void {
    if (this.#subscriber) this.#fanout.subscribe(channel, this.#subscriber);
  }

  unsubscribe(channel: ChannelName): void {
    if (this.#subscriber) this.#fanout.unsubscribe(channel, this.#subscriber);
  }

  isSubscribed(channel: ChannelName): boolean {
    return this.#subscriber !== undefined && this.#fanout.isSubscribed(channel, this.#subscriber);
  }

  close(reason: CloseCodeName): void {
    const { code, reason: text } = CLOSE_CODES[reason];
    this.#ws.close(code, text);
  }

  #onMessage(data: Buffer, isBinary: boolean): void {
    if (isBinary) this.#binary = true;
    const frame = isBinary ? decodeBinaryFrame(data) : decodeFrame(data.toString("utf8"));
    if (frame.kind === "ping") {
      this.#send(["pong", frame.ts]); // answered at once, even behind a slow request
      return;
    }
    if (this.#pending >= this.#limits.maxPendingRequests) {
      const ref = frame.kind === "request" || frame.kind === "bad" ? frame.ref : undefined;
      const error = new ProtocolError("rate_limited", "Too many requests waiting on this connection.", {
        retry_after: 1000,
      });
      this.#send(errorFrame(ref, error.toPayload()));
      return;
    }
    this.#pending += 1;
    this.#queue = this.#queue.then(async () => {
      try {
        this.#send(await this.#router.handle(this, frame));
      } finally {
        this.#pending -= 1;
      }
    });
  }

  #send(frame: OutgoingFrame): void {
    this.#write(new EncodedFrame(frame));
  }

  #write(frame: EncodedFrame): void {
    if (this.#ws.readyState !== this.#ws.OPEN) return;
    if (this.#ws.bufferedAmount > this.#limits.maxBufferedBytes) {
      this.close("slowConsumer");
      return;
    }
    this.#ws.send(this.#binary ? frame.binary : frame.text);
  }

  #onClose(): void {
    clearTimeout(this.#authTimer);
    // Closing a socket drops its subscriptions; the user's memberships stay.
    if (this.#subscriber) this.#fanout.removeConnection(this.#subscriber);
    this.#router.closed(this);
  }
}
