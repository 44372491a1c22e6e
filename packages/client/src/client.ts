// The connection: authenticate, typed requests with promises, pushes routed to channels, ping
// keepalive, and after any disconnect a jittered exponential backoff, re-authentication and
// recovery of every tracked channel (re-subscribe, fetch the gap, de-duplicate by event_id).
import { type BackoffOptions, backoffDelay, DEFAULT_BACKOFF } from "./backoff.ts";
import { Channel } from "./channel.ts";
import { ChannelStream } from "./channel-stream.ts";
import { type Clock, systemClock } from "./clock.ts";
import { Emitter } from "./emitter.ts";
import { isFatalAuthError, ParleyError } from "./errors.ts";
import { reconnectsAfter } from "./protocol.ts";
import { routePush } from "./push-router.ts";
import { Requests } from "./requests.ts";
import { defaultSocketFactory, OPEN, type SocketFactory, type SocketLike } from "./socket.ts";
import type {
  Authenticated,
  ChannelSnapshot,
  ChatEvent,
  DirectoryPage,
  FetchResult,
  FileRef,
  User,
  UserSearchPage,
} from "./types.ts";

/** What `upload` answers: a file reference for a `files` message, and its mxc:// URI. */
export type UploadedFile = FileRef & { readonly mxc: string };

export interface GuestStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

export interface ParleyClientOptions {
  /** The gateway, e.g. `wss://chat.example.org/chat`. */
  readonly url: string;
  /** A JWT from your backend, or a function that fetches a fresh one for each (re)connection. */
  readonly token?: string | (() => string | Promise<string>);
  /** For guests: the id to log in with. Without token or clientId, one is made and kept in `storage`. */
  readonly clientId?: string;
  readonly storage?: GuestStorage;
  readonly WebSocket?: SocketFactory;
  readonly clock?: Clock;
  readonly backoff?: BackoffOptions;
  readonly pingIntervalMs?: number;
  readonly pongTimeoutMs?: number;
  readonly requestTimeoutMs?: number;
}

export interface ClientEvents extends Record<string, unknown> {
  connected: Authenticated;
  disconnected: { code: number; reason: string };
  reconnecting: { attempt: number; delayMs: number };
  /** Errors not tied to a request, and a login that failed for good. */
  error: ParleyError;
  /** Every push as it arrives: [action, payload]. */
  push: [string, unknown];
  "user.updated": User;
  /** What the platform's backend sent this user through the server API (`POST /users/{user}/notify`). */
  "server.notify": Record<string, unknown>;
}

const GUEST_KEY = "parley.client_id";

export class ParleyClient extends Emitter<ClientEvents> {
  readonly #options: ParleyClientOptions;
  readonly #clock: Clock;
  readonly #Socket: SocketFactory;
  #socket: SocketLike | undefined;
  #authenticated = false;
  #closed = false;
  #attempt = 0;
  readonly #requests: Requests;
  #channels = new Map<string, Channel>();
  #tracked = new Map<string, { mode: "join" | "subscribe"; stream: ChannelStream }>();
  /** Channels subscribed with presence pushes, asked for again after a reconnect. */
  readonly #withPresence = new Set<string>();
  /** Bumped on every (re)authentication: a recovery from an older connection must stand down. */
  #generation = 0;
  #pingTimer: unknown;
  #pongTimer: unknown;
  #reconnectTimer: unknown;
  #connecting: Promise<Authenticated> | undefined;
  user: User | undefined;
  #lastAuth: Authenticated | undefined;
  #memoryGuestId: string | undefined;

  constructor(options: ParleyClientOptions) {
    super();
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#Socket = options.WebSocket ?? defaultSocketFactory();
    this.#requests = new Requests(this.#clock, options.requestTimeoutMs ?? 30_000);
  }

  get connected(): boolean {
    return this.#authenticated;
  }

  /** Connects and authenticates; resolves with the `authenticated` payload. */
  connect(): Promise<Authenticated> {
    if (this.#authenticated && this.#lastAuth) return Promise.resolve(this.#lastAuth);
    this.#closed = false;
    this.#connecting ??= this.#open().finally(() => {
      this.#connecting = undefined;
    });
    return this.#connecting;
  }

  /** Closes for good: no reconnection; waiting requests fail with `connection.closed`. */
  close(): void {
    this.#closed = true;
    this.#clock.clearTimeout(this.#reconnectTimer);
    this.#stopKeepalive();
    this.#socket?.close(1000, "client closed");
    this.#requests.failAll(new ParleyError("connection.closed", "The client was closed."));
  }

  channel(name: string): Channel {
    let channel = this.#channels.get(name);
    if (!channel) {
      channel = new Channel(this, name);
      this.#channels.set(name, channel);
    }
    return channel;
  }

  /** Sends a request; resolves with its result or rejects with a ParleyError carrying the code. */
  request<T = Record<string, unknown>>(action: string, payload: Record<string, unknown>): Promise<T> {
    if (this.#closed) return Promise.reject(new ParleyError("connection.closed", "The client is closed."));
    return this.#requests.add(action, payload, this.#sender()) as Promise<T>;
  }

  /** How to send now, or undefined while there is no authenticated connection. */
  #sender(): ((frame: string) => void) | undefined {
    const socket = this.#socket;
    if (!this.#authenticated || !socket || socket.readyState !== OPEN) return undefined;
    return (frame) => socket.send(frame);
  }

  /** Joins or subscribes and keeps the channel recovered across reconnects. */
  async track(
    name: string,
    mode: "join" | "subscribe",
    options: { presence?: boolean } = {},
  ): Promise<ChannelSnapshot> {
    const snapshot = await this.request<ChannelSnapshot>(mode === "join" ? "chat.join" : "chat.subscribe", {
      channel: name,
      ...(mode === "subscribe" && options.presence ? { presence: true } : {}),
    });
    this.adopt(name, mode, snapshot);
    if (options.presence) this.#withPresence.add(name);
    return snapshot;
  }

  /** `user.presence`: how you look to others (`invisible` looks offline; `dnd` holds notifications and new DMs). */
  async setPresence(status: "online" | "away" | "dnd" | "invisible"): Promise<void> {
    await this.request("user.presence", { status });
  }

  /** Keeps a channel the server already joined or subscribed us to recovered from now on. */
  adopt(name: string, mode: "join" | "subscribe", snapshot: ChannelSnapshot): void {
    const known = this.#tracked.get(name);
    // A join implies subscribe; a later subscribe must not downgrade what we rejoin with.
    const nextMode = known?.mode === "join" ? "join" : mode;
    this.#tracked.set(name, {
      mode: nextMode,
      stream: known?.stream ?? new ChannelStream(snapshot.next_event_id - 1),
    });
  }

  /** After a leave (ours, or a kick), reconnecting must subscribe, not join again. */
  stopRejoining(name: string): void {
    const tracked = this.#tracked.get(name);
    if (tracked) tracked.mode = "subscribe";
  }

  untrack(name: string): void {
    this.#tracked.delete(name);
    this.#withPresence.delete(name);
  }

  updateProfile(profile: {
    display_name: string;
    avatar_url?: string | null;
  }): Promise<Record<string, never>> {
    return this.request("user.update", { profile });
  }

  fetchUser(id: string): Promise<User> {
    return this.request("user.fetch", { id });
  }

  /** Up to 100 users at once; unknown ids are left out of the map. */
  fetchUsers(ids: readonly string[]): Promise<Record<string, User>> {
    return this.request("user.fetch", { ids: [...ids] });
  }

  /**
   * A page of the public channels, featured ones first, then most online first (`chat.directory`);
   * pass `next_cursor` back, with the same `search`, for the next page of the same ranking.
   */
  directory(
    query: { search?: string | undefined; count?: number | undefined; cursor?: string | undefined } = {},
  ): Promise<DirectoryPage> {
    const payload: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(query)) if (value !== undefined) payload[key] = value;
    return this.request("chat.directory", payload);
  }

  /** Users who share a channel with you, or a public one, by id or display name: 20 a page, from 1. */
  searchUsers(term: string, page = 1): Promise<UserSearchPage> {
    return this.request("user.list.search", { search_term: term, page });
  }

  /** Opens the direct channel with these users (none: with yourself) and keeps it recovered. */
  async directChannel(users: readonly string[]): Promise<Channel> {
    const opened = await this.request<ChannelSnapshot & { id: string }>("chat.direct.create", {
      users: [...users],
    });
    this.adopt(opened.id, "join", opened);
    return this.channel(opened.id);
  }

  async setRelation(
    action: "user.block" | "user.unblock" | "user.ignore" | "user.unignore",
    id: string,
  ): Promise<void> {
    await this.request(action, { id });
  }

  async blockedUsers(): Promise<string[]> {
    return (await this.request<{ users: string[] }>("user.list.blocked", {})).users;
  }

  /** Owners: the same role in every channel they own (a DJ appointing their team). */
  setRoleEverywhere(user: string, role: "moderator" | "user"): Promise<{ channels: string[] }> {
    return this.request("chat.set_role", { all_channels: true, user, role });
  }

  // Platform admins only.
  banUser(id: string): Promise<{ channels: number }> {
    return this.request("user.ban", { id });
  }

  silenceUser(id: string): Promise<{ channels: number }> {
    return this.request("user.silence", { id });
  }

  reactivateUser(id: string): Promise<{ channels: number }> {
    return this.request("user.reactivate", { id });
  }

  /**
   * Uploads a file to the gateway's `POST /media/upload` (same host as the WebSocket) with this
   * client's credentials; post the result in a `files` message. Fails with the server's code
   * (`media.too_large`, `media.unsupported_type`, ...).
   */
  async upload(data: Blob, filename: string, mimeType?: string): Promise<UploadedFile> {
    const credentials = await this.#credentials();
    const target = new URL("/media/upload", this.#options.url.replace(/^ws/, "http"));
    target.searchParams.set("filename", filename);
    const response = await fetch(target, {
      method: "POST",
      headers: {
        authorization: credentials.token
          ? `Bearer ${credentials.token}`
          : `Guest ${credentials.client_id ?? ""}`,
        "content-type": mimeType || data.type || "application/octet-stream",
      },
      body: data,
    });
    const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
    if (!response.ok) {
      throw ParleyError.from(
        typeof body.code === "string"
          ? body
          : { code: "media.bad_request", message: `HTTP ${response.status}` },
      );
    }
    return body as unknown as UploadedFile;
  }

  // --- the connection --------------------------------------------------------------------------

  async #credentials(): Promise<Record<string, string>> {
    const { token, clientId, storage } = this.#options;
    if (token !== undefined) return { token: typeof token === "function" ? await token() : token };
    if (clientId !== undefined) return { client_id: clientId };
    let store = storage;
    try {
      store ??= (globalThis as { localStorage?: GuestStorage }).localStorage;
    } catch {
      // reading localStorage itself throws where the page's storage is blocked
    }
    // Without storage (Node), or where it is refused (a page framed on another site) or full, the
    // guest lasts as long as this client does: one id for every reconnect and upload.
    let id: string | null = null;
    try {
      id = store?.getItem(GUEST_KEY) ?? null;
    } catch {
      // refused: the one kept in memory below
    }
    id ??= this.#memoryGuestId ?? null;
    if (!id) {
      id = crypto.randomUUID();
      this.#memoryGuestId = id;
      try {
        store?.setItem(GUEST_KEY, id);
      } catch {
        // kept in memory only
      }
    }
    return { client_id: id };
  }

  #open(): Promise<Authenticated> {
    return new Promise<Authenticated>((resolve, reject) => {
      let settled = false;
      const socket = new this.#Socket(this.#options.url);
      this.#socket = socket;
      socket.onopen = () => {
        this.#credentials().then(
          // This client handles batched member events of big channels (`chat.events`).
          (credentials) =>
            socket.send(JSON.stringify(["authenticate", { ...credentials, batch_member_events: true }])),
          (error: unknown) => socket.close(4000, error instanceof Error ? error.message : "no credentials"),
        );
      };
      socket.onmessage = (event) => {
        const frame = this.#parse(event.data);
        if (!frame) return;
        if (!settled && frame[0] === "authenticated") {
          settled = true;
          void this.#onAuthenticated(frame[1] as Authenticated).then(resolve, reject);
          return;
        }
        if (!settled && frame[0] === "error" && frame.length === 2) {
          settled = true;
          const error = ParleyError.from(frame[1]);
          this.#closed ||= isFatalAuthError(error);
          reject(error);
          socket.close(1000, "authentication failed");
          return;
        }
        this.#onFrame(frame);
      };
      socket.onclose = (event) => {
        if (this.#socket === socket) this.#onClose(event.code, event.reason);
        if (!settled) {
          settled = true;
          reject(new ParleyError("connection.closed", `The connection closed (${event.code}).`));
        }
      };
      socket.onerror = () => {
        // onclose follows and handles it
      };
    });
  }

  async #onAuthenticated(payload: Authenticated): Promise<Authenticated> {
    this.#authenticated = true;
    this.#attempt = 0;
    this.user = payload.user;
    this.#lastAuth = payload;
    this.#startKeepalive();
    const generation = ++this.#generation;
    const recoveries = [...this.#tracked.entries()].map(([name, tracked]) =>
      this.#recover(name, tracked, generation),
    );
    const send = this.#sender();
    if (send) this.#requests.sendWaiting(send);
    this.emit("connected", payload);
    await Promise.all(recoveries);
    return payload;
  }

  /** After a reconnect: subscribe again, fetch everything after the last delivered event. */
  async #recover(
    name: string,
    tracked: { mode: "join" | "subscribe"; stream: ChannelStream },
    generation: number,
  ): Promise<void> {
    const channel = this.channel(name);
    tracked.stream.beginRecovery();
    try {
      const snapshot = await this.request<ChannelSnapshot>(
        tracked.mode === "join" ? "chat.join" : "chat.subscribe",
        {
          channel: name,
          ...(tracked.mode === "subscribe" && this.#withPresence.has(name) ? { presence: true } : {}),
        },
      );
      // chat.join takes no presence option: ask for the presence pushes again as the app did.
      if (tracked.mode === "join" && this.#withPresence.has(name)) {
        await this.request("chat.subscribe", { channel: name, presence: true });
      }
      const newest = snapshot.next_event_id - 1;
      for (let guard = 0; guard < 1000 && (tracked.stream.last ?? newest) < newest; guard++) {
        if (generation !== this.#generation) return;
        const page = await this.request<FetchResult>("chat.fetch", {
          channel: name,
          after_id: tracked.stream.last ?? newest,
          count: 200,
        });
        if (page.results.length === 0) break;
        channel.deliver(tracked.stream.accept(page.results, true));
      }
    } catch (error) {
      if (generation === this.#generation) {
        this.emit(
          "error",
          error instanceof ParleyError ? error : new ParleyError("server.fatal", String(error)),
        );
      }
    } finally {
      // A newer connection's recovery owns the stream now; only the current one ends it.
      if (generation === this.#generation) channel.deliver(tracked.stream.endRecovery());
    }
  }

  #onClose(code: number, reason: string): void {
    // This attempt is over; the next connect() must start a new one, even within this tick.
    this.#connecting = undefined;
    const wasAuthenticated = this.#authenticated;
    this.#authenticated = false;
    this.#socket = undefined;
    this.#stopKeepalive();
    // In-flight requests go back to the queue (resent after reconnecting) unless unsafe to repeat.
    this.#requests.connectionLost();
    if (wasAuthenticated) this.emit("disconnected", { code, reason });
    // Some closes say not to come back (a platform ban, a connection replaced by newer ones).
    if (!this.#closed && !reconnectsAfter(code)) {
      this.#closed = true;
      this.emit(
        "error",
        new ParleyError("connection.closed", `The server closed for good: ${reason || code}.`, {
          close_code: code,
        }),
      );
    }
    if (this.#closed) {
      this.#requests.failAll(new ParleyError("connection.closed", "The client is closed."));
      return;
    }
    const delayMs = backoffDelay(
      this.#attempt,
      this.#clock.random(),
      this.#options.backoff ?? DEFAULT_BACKOFF,
    );
    this.#attempt += 1;
    this.emit("reconnecting", { attempt: this.#attempt, delayMs });
    this.#reconnectTimer = this.#clock.setTimeout(() => {
      this.connect().catch((error: unknown) => {
        if (error instanceof ParleyError && isFatalAuthError(error)) this.emit("error", error);
      });
    }, delayMs);
  }

  #parse(data: unknown): unknown[] | undefined {
    try {
      const frame = JSON.parse(typeof data === "string" ? data : String(data)) as unknown;
      return Array.isArray(frame) ? frame : undefined;
    } catch {
      return undefined;
    }
  }

  #onFrame(frame: unknown[]): void {
    const [kind, second, third] = frame;
    if ((kind === "success" || kind === "error") && frame.length === 3 && typeof second === "number") {
      this.#requests.settle(second, kind === "success", third);
      return;
    }
    if (kind === "pong") {
      this.#clock.clearTimeout(this.#pongTimer);
      return;
    }
    if (kind === "error") {
      this.emit("error", ParleyError.from(second));
      return;
    }
    if (typeof kind === "string") this.#onPush(kind, second);
  }

  #onPush(action: string, payload: unknown): void {
    this.emit("push", [action, payload]);
    routePush(action, payload, {
      deliver: (event) => this.#deliver(event),
      channel: (name) => this.channel(name),
      forget: (name) => this.#tracked.delete(name),
      userUpdated: (user) => this.emit("user.updated", user),
      serverNotify: (body) => this.emit("server.notify", body),
      now: () => this.#clock.now(),
    });
  }

  #deliver(event: ChatEvent): void {
    const tracked = this.#tracked.get(event.channel);
    const about = (event.content as { membership?: string; user?: { id?: string } }).user?.id;
    if (tracked && event.event_type === "channel.member" && about === this.user?.id) {
      const membership = (event.content as { membership?: string }).membership;
      if (membership === "leave" || membership === "ban") tracked.mode = "subscribe";
    }
    const channel = this.channel(event.channel);
    if (!tracked) {
      channel.deliver([event]);
      return;
    }
    channel.deliver(tracked.stream.accept([event]));
  }

  #startKeepalive(): void {
    const interval = this.#options.pingIntervalMs ?? 25_000;
    const tick = () => {
      const socket = this.#socket;
      if (!socket || socket.readyState !== OPEN) return;
      socket.send(JSON.stringify(["ping", this.#clock.now()]));
      // No pong in time: the connection is dead even if the socket has not noticed.
      this.#pongTimer = this.#clock.setTimeout(
        () => socket.close(4000, "no pong"),
        this.#options.pongTimeoutMs ?? 10_000,
      );
      this.#pingTimer = this.#clock.setTimeout(tick, interval);
    };
    this.#pingTimer = this.#clock.setTimeout(tick, interval);
  }

  #stopKeepalive(): void {
    this.#clock.clearTimeout(this.#pingTimer);
    this.#clock.clearTimeout(this.#pongTimer);
  }
}
