// One WebSocket connection: reads frames, runs them through the router one at a time (so a client's
// join is done before its send), and writes replies and pushes with a bounded send buffer. Every
// frame has an error boundary: a failure becomes an error reply or a close with 1011, never an exit.
import type { WebSocket } from "ws";
import type { FanOut, Subscriber } from "../domain/ports/fanout.ts";
import type { AuthUser, Session } from "../handlers/context.ts";
import type { Router } from "../handlers/router.ts";
import type { Logger } from "../logging.ts";
import { CLOSE_CODES, type CloseCodeName } from "../protocol/close-codes.ts";
import { ProtocolError } from "../protocol/errors.ts";
import {
  decodeBinaryFrame,
  decodeFrame,
  EncodedFrame,
  errorFrame,
  type IncomingFrame,
  type OutgoingFrame,
} from "../protocol/frames.ts";
import type { ChannelName, UserId } from "../protocol/ids.ts";
import type { ConnectionsByUser } from "./connection-counts.ts";
import type { GatewayObserver } from "./observer.ts";

export interface ConnectionLimits {
  readonly maxBufferedBytes: number;
  readonly authTimeoutMs: number;
  readonly maxPendingRequests: number;
  readonly maxConnectionsPerUser: number;
}

export interface ConnectionDeps {
  readonly router: Router;
  readonly fanout: FanOut;
  readonly log: Logger;
  /** Authenticated connections per user, across the gateway. */
  readonly perUser: ConnectionsByUser<Connection>;
  /** Told once the socket has closed, after the connection's own clean-up. */
  readonly closed: (connection: Connection) => void;
  readonly observer: GatewayObserver;
}

const AS_TEXT = { binary: false } as const;
const AS_BINARY = { binary: true } as const;

/**
 * The socket's listeners are shared by every connection (not a closure each): with tens of
 * thousands of idle connections, per-connection closures are a good part of what each one costs.
 */
const CONNECTION = Symbol("parley.connection");
type Owned = WebSocket & { [CONNECTION]: Connection };
const connectionOf = (ws: WebSocket): Connection => (ws as Owned)[CONNECTION];
function onMessage(this: WebSocket, data: Buffer, isBinary: boolean): void {
  connectionOf(this).received(data, isBinary);
}
function onPong(this: WebSocket): void {
  connectionOf(this).heard();
}
function onClose(this: WebSocket): void {
  connectionOf(this).ended();
}
function onError(this: WebSocket, error: Error): void {
  connectionOf(this).failed(error);
}

const refOf = (frame: IncomingFrame) =>
  frame.kind === "request" || frame.kind === "bad" || frame.kind === "invalid" ? frame.ref : undefined;

/** What the observer counts a frame as: its action, or its kind (`authenticate`, `ping`, `bad`). */
const labelOf = (frame: IncomingFrame) =>
  frame.kind === "request" || frame.kind === "invalid" ? frame.action : frame.kind;

/** An error frame's code: ["error", ref?, {code, ...}]. */
const errorCodeOf = (frame: OutgoingFrame): string | undefined => {
  if (frame[0] !== "error") return undefined;
  const code = (frame.at(-1) as { code?: unknown } | undefined)?.code;
  return typeof code === "string" ? code : "unknown";
};

/** A client connection: the session its requests run in, and (once authenticated) a subscriber. */
export class Connection implements Session, Subscriber {
  readonly connectionId: number;
  readonly address: string;
  user: AuthUser | undefined;
  /** Set when it authenticates; only then is it a subscriber. */
  userId = "" as UserId;
  batchesMemberEvents = false;
  readonly #ws: WebSocket;
  readonly #deps: ConnectionDeps;
  readonly #limits: ConnectionLimits;
  #subscribed = false;
  #queue: Promise<void> | undefined;
  #pending = 0;
  #authTimer: NodeJS.Timeout | undefined;
  /** Set by the first binary frame: from then on this connection is answered in MessagePack. */
  #binary = false;
  /** Heard from since the last heartbeat (a frame or a pong). */
  #alive = true;

  constructor(id: number, address: string, ws: WebSocket, deps: ConnectionDeps, limits: ConnectionLimits) {
    this.connectionId = id;
    this.address = address;
    this.#ws = ws;
    this.#deps = deps;
    this.#limits = limits;
    this.#authTimer = setTimeout(() => this.close("authTimeout"), limits.authTimeoutMs);
    (ws as Owned)[CONNECTION] = this;
    ws.on("message", onMessage);
    ws.on("pong", onPong);
    ws.on("close", onClose);
    ws.on("error", onError);
  }

  get id(): number {
    return this.connectionId;
  }

  /** Subscriber: hands a push to this client. */
  deliver(frame: EncodedFrame): void {
    this.#deps.observer.pushed(frame.action);
    this.#write(frame);
  }

  /** Resolves once the requests this connection is running have been answered (or dropped). */
  async idle(): Promise<void> {
    while (this.#queue) await this.#queue;
  }

  /** @internal the socket's listeners */
  received(data: Buffer, isBinary: boolean): void {
    this.#onMessage(data, isBinary);
  }

  /** @internal */
  heard(): void {
    this.#alive = true;
  }

  /** @internal */
  ended(): void {
    this.#onClose();
  }

  /** @internal ws closes by itself after a protocol error (1009 for a frame over the limit, sent
   * before the socket goes): terminating here would cut that close frame off. */
  failed(error: Error): void {
    this.#deps.log.debug(`connection ${this.connectionId}: ${error.message}`);
  }

  authenticate(user: AuthUser, options: { batchMemberEvents?: boolean } = {}): void {
    // At the cap the user's oldest connection makes way: a phone that changed networks must not
    // be locked out by its own connections that have not timed out yet.
    if (this.#deps.perUser.count(user.userId) >= this.#limits.maxConnectionsPerUser) {
      const oldest = this.#deps.perUser.oldest(user.userId);
      if (oldest) {
        this.#deps.perUser.remove(user.userId, oldest);
        oldest.close("replaced");
      }
    }
    this.user = user;
    this.userId = user.userId;
    this.batchesMemberEvents = options.batchMemberEvents === true;
    this.#deps.perUser.add(user.userId, this);
    clearTimeout(this.#authTimer);
    this.#authTimer = undefined;
    this.#subscribed = true;
    this.#deps.fanout.addConnection(this);
  }

  subscribe(channel: ChannelName): void {
    if (this.#subscribed) this.#deps.fanout.subscribe(channel, this);
  }

  unsubscribe(channel: ChannelName): void {
    if (this.#subscribed) this.#deps.fanout.unsubscribe(channel, this);
  }

  isSubscribed(channel: ChannelName): boolean {
    return this.#subscribed && this.#deps.fanout.isSubscribed(channel, this);
  }

  /**
   * Called every heartbeat interval: a connection that has not answered the previous ping (nor
   * sent anything) since is gone without having said so, and is dropped, so it stops counting
   * against its user's and its address's connection caps.
   */
  heartbeat(): void {
    if (!this.#alive) {
      this.#ws.terminate();
      return;
    }
    this.#alive = false;
    this.#ws.ping();
  }

  close(reason: CloseCodeName): void {
    const { code, reason: text } = CLOSE_CODES[reason];
    this.#ws.close(code, text);
  }

  #onMessage(data: Buffer, isBinary: boolean): void {
    this.#alive = true;
    if (isBinary) this.#binary = true;
    const frame = isBinary ? decodeBinaryFrame(data) : decodeFrame(data.toString("utf8"));
    const label = labelOf(frame);
    const observer = this.#deps.observer;
    observer.frameIn(label);
    if (frame.kind === "ping") {
      observer.replied(label, undefined);
      this.#send(["pong", frame.ts]); // answered at once, even behind a slow request
      return;
    }
    if (this.#pending >= this.#limits.maxPendingRequests) {
      const error = new ProtocolError("rate_limited", "Too many requests waiting on this connection.", {
        retry_after: 1000,
      });
      observer.replied(label, error.code);
      this.#send(errorFrame(refOf(frame), error.toPayload()));
      return;
    }
    this.#pending += 1;
    this.#queue = (this.#queue ?? Promise.resolve()).then(async () => {
      let reply: OutgoingFrame;
      try {
        reply = await this.#deps.router.handle(this, frame);
      } catch (error) {
        // The router answers every failure itself; reaching here is a bug, answered anyway.
        this.#deps.log.error(`connection ${this.connectionId}: a frame failed outside the router`, error);
        reply = errorFrame(refOf(frame), new ProtocolError("server.fatal").toPayload());
      } finally {
        this.#pending -= 1;
      }
      observer.replied(label, errorCodeOf(reply));
      this.#send(reply);
      // Idle connections hold no settled promise chain.
      if (this.#pending === 0) this.#queue = undefined;
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
    let data: Uint8Array;
    try {
      data = this.#binary ? frame.binary : frame.textBytes;
    } catch (error) {
      // A frame that cannot be encoded must not take the process (or the fan-out loop) down.
      this.#deps.log.error(`connection ${this.connectionId}: a frame could not be encoded`, error);
      this.close("internalError");
      return;
    }
    // Bytes shared by every recipient; a text frame stays a text frame.
    this.#ws.send(data, this.#binary ? AS_BINARY : AS_TEXT);
  }

  #onClose(): void {
    clearTimeout(this.#authTimer);
    // Closing a socket drops its subscriptions; the user's memberships stay.
    if (this.#subscribed) this.#deps.fanout.removeConnection(this);
    this.#subscribed = false;
    if (this.user) this.#deps.perUser.remove(this.user.userId, this);
    try {
      this.#deps.router.closed(this);
    } catch (error) {
      this.#deps.log.error(`connection ${this.connectionId}: clean-up after close failed`, error);
    }
    this.#deps.closed(this);
  }
}
