// A native user's presence follows their connections: online (or what they chose) while they have
// one on any node, offline a grace period after the last one closed, so a reconnect does not
// flicker. Told to the puppet on Matrix (best effort: the homeserver being away only leaves a
// stale dot, logged at debug) and to the user's channels (chat.presence).
//
// Synapse shows a user offline once it has not heard from them for 30 s (a puppet never syncs, so
// only our presence PUTs count; it checks on timers of its own, so in practice 30-70 s). So each
// node tells it again, every `refreshMs`, about the users connected to it, re-reading what they
// chose: a status chosen on another node is followed here too. At most `maxRefreshPerSecond` a
// second, the longest waiting first (a 2-core Synapse spends about half a core on 100). Nothing
// else ends a killed node's presence: its users go offline on Matrix once its refreshes stop.
import type { Logger } from "../logging.ts";
import type { UserId } from "../protocol/ids.ts";
import { KeyedQueue } from "../shared/keyed-queue.ts";
import type { FanOut, Subscriber } from "./ports/fanout.ts";
import type { MatrixPort } from "./ports/matrix.ts";
import { type ChosenStatus, type MatrixPresence, matrixPresenceOf, type Presence } from "./presence.ts";

export interface PresenceMirrorDeps {
  readonly matrix: Pick<MatrixPort, "setPresence">;
  readonly presence: Pick<Presence, "chosenOf" | "changed">;
  /** Registers the puppet (and its name) before it first says anything. */
  readonly preparePuppet: (userId: UserId) => Promise<void>;
  readonly isNative: (userId: UserId) => boolean;
  readonly graceMs: number;
  /** How often a user connected here is told to the homeserver again; 0: never. */
  readonly refreshMs: number;
  /**
   * At most this many refreshes a second from this node: a crowd's presence must not take the
   * homeserver from its messages. Past it, refreshes come later (and may come too late). Changes
   * (a connection, a chosen status, an offline) are not counted: they go at once.
   */
  readonly maxRefreshPerSecond: number;
  readonly log: Logger;
}

/** What this node last told the homeserver about a user connected to it (or in their grace period). */
interface Told {
  readonly presence: MatrixPresence;
  readonly statusMsg: string | undefined;
  /** When it was told, or last refreshed. `told` is kept in this order, oldest first. */
  readonly at: number;
  /** The puppet is registered: refreshes need not ask again. */
  prepared: boolean;
}

export type MirroredFanOut = FanOut & {
  /** The user chose a status: shown on Matrix now if they are connected here. */
  showChosen(userId: UserId, status: ChosenStatus): void;
  /** Stopping: those whose last connection here closed show offline now, not never. */
  stopPresence(): Promise<void>;
};

/** The fan-out, telling Matrix and the user's channels when a native user comes and goes. */
export function withPresenceMirror(fanout: FanOut, deps: PresenceMirrorDeps): MirroredFanOut {
  const { matrix, presence, preparePuppet, isNative, graceMs, refreshMs, maxRefreshPerSecond, log } = deps;
  // The users this node tells Matrix about: connected here, or in their grace period.
  const told = new Map<UserId, Told>();
  const leaving = new Map<UserId, NodeJS.Timeout>();
  // Refreshes on their way: a slow homeserver gets one per user at a time, not a growing pile.
  const refreshing = new Set<UserId>();
  let refresher: NodeJS.Timeout | undefined;
  let stopped = false;
  // One change at a time per user, in order: an offline never overtakes the online after it.
  const queue = new KeyedQueue<UserId>();
  const tell = (userId: UserId, state: MatrixPresence, statusMsg: string | undefined, entry?: Told) =>
    queue
      .run(userId, async () => {
        if (!entry?.prepared) await preparePuppet(userId);
        await matrix.setPresence(userId, state, statusMsg);
        if (entry) entry.prepared = true;
      })
      .catch((error: unknown) => log.debug(`presence of ${userId} not shown on Matrix`, error));
  const isHere = (userId: UserId) => fanout.connectionCountHere(userId) > 0 || leaving.has(userId);

  const refreshEvery = Math.min(1_000, Math.max(250, Math.floor(refreshMs / 10)));
  let allowance = 0;
  const ceiling = maxRefreshPerSecond; // a second's worth
  let warnedAt = Number.NEGATIVE_INFINITY;
  /** Some refreshes wait for the cap: said once a minute when one is over 5 s late. */
  const warnIfLate = (oldestAt: number) => {
    const lateMs = Date.now() - oldestAt - refreshMs;
    if (lateMs < 5_000 || Date.now() - warnedAt < 60_000) return;
    warnedAt = Date.now();
    const needed = Math.ceil(told.size / (refreshMs / 1_000));
    log.warn(
      `presence: a refresh is ${Math.round(lateMs / 1_000)} s late: ${told.size} users connected here ` +
        `need ${needed} refreshes a second, chat.presence_refresh_max_per_second is ` +
        `${maxRefreshPerSecond}. Users refreshed too late look offline on Matrix; raise that cap if ` +
        "the homeserver has room, or Synapse's presence.sync_online_timeout and " +
        "chat.presence_refresh_ms together (docs/deploy.md)",
    );
  };
  /** Keeps `told` in the order of `at`, so the longest waiting come first without sorting. */
  const record = (userId: UserId, entry: Told) => {
    told.delete(userId);
    told.set(userId, entry);
  };
  // Each user is told again `refreshMs` after the last time (so the load spreads as connections
  // do), as they chose it now: a status chosen through another node is followed here as well.
  const refresh = async () => {
    const due = Date.now() - refreshMs;
    // A second's worth at most, however long the homeserver or the loop was away.
    allowance = Math.min(allowance + (maxRefreshPerSecond * refreshEvery) / 1_000, ceiling);
    const budget = Math.floor(allowance);
    const picked: Array<[UserId, Told]> = [];
    let spent = 0;
    for (const [userId, last] of told) {
      if (last.at > due || refreshing.has(userId)) continue;
      // Users shown offline (invisible) are only read again, which costs the homeserver nothing.
      const sends = last.presence !== "offline";
      if (sends && spent === budget) {
        warnIfLate(last.at); // the rest wait for the next tick
        break;
      }
      if (sends) spent++;
      picked.push([userId, last]);
    }
    allowance -= spent;
    if (picked.length === 0) return;
    for (const [userId] of picked) refreshing.add(userId);
    // When the store cannot say, what was told last is repeated: it must not time out meanwhile.
    const chosen = await presence.chosenOf(picked.map(([userId]) => userId)).catch((error: unknown) => {
      log.debug("presence not re-read: repeating what was told", error);
      return new Map<UserId, ChosenStatus>();
    });
    for (const [userId, before] of picked) {
      // Gone or told something else meanwhile (that is newer than what was read).
      if (stopped || told.get(userId) !== before) {
        refreshing.delete(userId);
        if (before.presence !== "offline") allowance = Math.min(allowance + 1, ceiling); // unspent
        continue;
      }
      const status = chosen.get(userId);
      const { presence: state, statusMsg } = status === undefined ? before : matrixPresenceOf(status);
      const entry: Told = { presence: state, statusMsg, at: Date.now(), prepared: before.prepared };
      record(userId, entry);
      // Offline (invisible) needs no repeating: Synapse keeps it. The other way, a change.
      if (state === "offline" && before.presence === "offline") refreshing.delete(userId);
      else void tell(userId, state, statusMsg, entry).finally(() => refreshing.delete(userId));
    }
  };
  const startRefreshing = () => {
    if (stopped || refreshMs <= 0 || refresher !== undefined) return;
    refresher = setInterval(() => {
      if (told.size === 0) {
        clearInterval(refresher);
        refresher = undefined;
        return;
      }
      void refresh();
    }, refreshEvery);
    refresher.unref();
  };

  /** Tells Matrix the status unless it is what was told last (`always`: even then). */
  const show = (userId: UserId, status: ChosenStatus, always = false) => {
    const { presence: state, statusMsg } = matrixPresenceOf(status);
    const last = told.get(userId);
    if (!always && last?.presence === state && last.statusMsg === statusMsg) return;
    const entry: Told = { presence: state, statusMsg, at: Date.now(), prepared: last?.prepared ?? false };
    record(userId, entry);
    startRefreshing();
    void tell(userId, state, statusMsg, entry);
  };
  const settle = async (userId: UserId) => {
    leaving.delete(userId);
    const elsewhere = (await fanout.connectionCount(userId)) > 0;
    // Back here meanwhile: this node goes on telling.
    if (isHere(userId)) return;
    told.delete(userId);
    // Still connected on another node, which tells Matrix from now on (a later reconnect here
    // shows them again).
    if (elsewhere) return;
    // Even after an invisible: what this node last told may be older than a choice made elsewhere.
    void tell(userId, "offline", undefined);
    presence.changed(userId);
  };
  return {
    ...fanout,
    addConnection(subscriber: Subscriber) {
      fanout.addConnection(subscriber);
      const userId = subscriber.userId;
      if (!isNative(userId)) return;
      const wasLeaving = leaving.has(userId);
      clearTimeout(leaving.get(userId));
      leaving.delete(userId);
      if (fanout.connectionCountHere(userId) === 1 && !wasLeaving) presence.changed(userId);
      const before = told.get(userId);
      presence.chosenOf([userId]).then(
        (chosen) => {
          // Gone again while this was read (settling tells Matrix), or told something newer.
          if (isHere(userId) && told.get(userId) === before) show(userId, chosen.get(userId) ?? "online");
        },
        (error: unknown) => {
          log.debug(`presence of ${userId} not read: the next refresh reads it again`, error);
          if (isHere(userId) && !told.has(userId)) {
            record(userId, { presence: "offline", statusMsg: undefined, at: 0, prepared: false });
            startRefreshing();
          }
        },
      );
    },
    removeConnection(subscriber: Subscriber) {
      fanout.removeConnection(subscriber);
      const userId = subscriber.userId;
      if (!isNative(userId) || fanout.connectionCountHere(userId) > 0) return;
      clearTimeout(leaving.get(userId));
      const timer = setTimeout(() => {
        settle(userId).catch((error: unknown) => log.debug(`presence of ${userId} not settled`, error));
      }, graceMs);
      timer.unref();
      leaving.set(userId, timer);
    },
    showChosen(userId, status) {
      // Always told: what this node showed last may be older than a choice made elsewhere.
      if (fanout.connectionCountHere(userId) > 0) show(userId, status, true);
    },
    async stopPresence() {
      stopped = true;
      clearInterval(refresher);
      refresher = undefined;
      const gone = [...leaving.keys()];
      for (const timer of leaving.values()) clearTimeout(timer);
      leaving.clear();
      await Promise.allSettled(gone.map((userId) => settle(userId)));
      // Each user's changes run in order: the offlines just queued are sent before this returns.
      await Promise.allSettled(gone.map((userId) => queue.run(userId, async () => undefined)));
    },
  };
}
