// A minimal Matrix client for the benchmark: raw fetch, one room, a long-poll /sync loop that
// timestamps each m.room.message the moment its /sync response has been read.

const SYNC_TIMEOUT_MS = 30_000;
/** How long one /sync request may take in all: the long-poll plus slack. */
const SYNC_REQUEST_LIMIT_MS = SYNC_TIMEOUT_MS + 15_000;
const REQUEST_LIMIT_MS = 10_000;

type Json = Record<string, unknown>;

/** One client-server API call with a timeout; throws with the homeserver's error on a non-2xx reply. */
export async function matrixRequest(
  hsUrl: string,
  token: string,
  method: string,
  path: string,
  body?: Json,
  signal: AbortSignal = AbortSignal.timeout(REQUEST_LIMIT_MS),
): Promise<Json> {
  const res = await fetch(`${hsUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
    signal,
  });
  const text = await res.text();
  if (!res.ok)
    throw new Error(`${method} ${path.split("?")[0]} failed: HTTP ${res.status} ${text.slice(0, 300)}`);
  return text === "" ? {} : (JSON.parse(text) as Json);
}

interface Waiter {
  resolve: (arrivedAt: number) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/** Syncs one user's view of one room; `waitForBody` resolves with the performance.now() of arrival. */
export class RoomSync {
  readonly #hsUrl: string;
  readonly #token: string;
  readonly #roomId: string;
  readonly #filter: string;
  readonly #abort = new AbortController();
  readonly #waiters = new Map<string, Waiter>();
  /** Bodies that arrived before anyone waited for them, with their arrival time. */
  readonly #early = new Map<string, number>();
  #since = "";
  #failure: Error | undefined;
  #loop: Promise<void> = Promise.resolve();

  private constructor(hsUrl: string, token: string, roomId: string) {
    this.#hsUrl = hsUrl;
    this.#token = token;
    this.#roomId = roomId;
    // Only this room's message timeline: no presence, account data, ephemeral or state noise.
    this.#filter = encodeURIComponent(
      JSON.stringify({
        presence: { types: [] },
        account_data: { types: [] },
        room: {
          rooms: [roomId],
          timeline: { types: ["m.room.message"], limit: 100 },
          state: { types: [] },
          ephemeral: { types: [] },
          account_data: { types: [] },
        },
      }),
    );
  }

  /** Does an initial sync (for `since`), then runs the long-poll loop in the background. */
  static async start(hsUrl: string, token: string, roomId: string): Promise<RoomSync> {
    const sync = new RoomSync(hsUrl, token, roomId);
    const initial = await sync.#sync(0, AbortSignal.timeout(REQUEST_LIMIT_MS * 3));
    sync.#since = String(initial.next_batch);
    sync.#loop = sync.#run();
    return sync;
  }

  waitForBody(body: string, timeoutMs: number): Promise<number> {
    if (this.#failure) return Promise.reject(this.#failure);
    const early = this.#early.get(body);
    if (early !== undefined) {
      this.#early.delete(body);
      return Promise.resolve(early);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(body);
        reject(new Error(`the Matrix user's /sync did not deliver "${body}" within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiters.set(body, { resolve, reject, timer });
    });
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#loop;
    this.#fail(new Error("the sync loop was stopped"));
  }

  #sync(timeoutMs: number, signal: AbortSignal): Promise<Json> {
    const since = this.#since ? `&since=${encodeURIComponent(this.#since)}` : "";
    const path = `/_matrix/client/v3/sync?timeout=${timeoutMs}&filter=${this.#filter}${since}`;
    return matrixRequest(this.#hsUrl, this.#token, "GET", path, undefined, signal);
  }

  async #run(): Promise<void> {
    while (!this.#abort.signal.aborted) {
      let response: Json;
      try {
        const signal = AbortSignal.any([this.#abort.signal, AbortSignal.timeout(SYNC_REQUEST_LIMIT_MS)]);
        response = await this.#sync(SYNC_TIMEOUT_MS, signal);
      } catch (error) {
        if (this.#abort.signal.aborted) return;
        this.#fail(new Error(`the Matrix /sync loop failed: ${(error as Error).message}`));
        return;
      }
      const arrivedAt = performance.now();
      this.#since = String(response.next_batch);
      for (const body of this.#messageBodies(response)) this.#arrived(body, arrivedAt);
    }
  }

  #messageBodies(response: Json): string[] {
    const rooms = response.rooms as { join?: Record<string, { timeline?: { events?: Json[] } }> } | undefined;
    const events = rooms?.join?.[this.#roomId]?.timeline?.events ?? [];
    const bodies: string[] = [];
    for (const event of events) {
      const content = event.content as Json | undefined;
      if (event.type === "m.room.message" && typeof content?.body === "string") bodies.push(content.body);
    }
    return bodies;
  }

  #arrived(body: string, arrivedAt: number): void {
    const waiter = this.#waiters.get(body);
    if (!waiter) {
      this.#early.set(body, arrivedAt);
      return;
    }
    this.#waiters.delete(body);
    clearTimeout(waiter.timer);
    waiter.resolve(arrivedAt);
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    for (const waiter of this.#waiters.values()) {
      clearTimeout(waiter.timer);
      waiter.reject(error);
    }
    this.#waiters.clear();
  }
}
