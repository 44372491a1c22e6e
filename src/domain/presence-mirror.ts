// A native user's presence follows their connections: online (or what they chose) while they have
// one on any node, offline a grace period after the last one closed, so a reconnect does not
// flicker. Told to the puppet on Matrix (best effort: the homeserver being away only leaves a
// stale dot, logged at debug) and to the user's channels (chat.presence).
//
// Synapse shows a user offline 30 s after it last heard from them (a sync or a presence PUT), so
// while a user is shown online or away here it is told again every `refreshMs`. That is also the
// heartbeat that ends a killed node's presence: its users go offline on Matrix by themselves.
import type { Logger } from "../logging.ts";
import type { UserId } from "../protocol/ids.ts";
import { KeyedQueue } from "../shared/keyed-queue.ts";
import type { FanOut, Subscriber } from "./ports/fanout.ts";
import type { MatrixPort } from "./ports/matrix.ts";
import { type ChosenStatus, type MatrixPresence, matrixPresenceOf, type Presence } from "./presence.ts";

export interface PresenceMirrorDeps {
  readonly matrix: Pick<MatrixPort, "setPresence">;
  readonly presence: Pick<Presence, "chosen" | "changed">;
  /** Registers the puppet (and its name) before it first says anything. */
  readonly preparePuppet: (userId: UserId) => Promise<void>;
  readonly isNative: (userId: UserId) => boolean;
  readonly graceMs: number;
  /** How often a user shown online or away is told to the homeserver again; 0: never. */
  readonly refreshMs: number;
  readonly log: Logger;
}

/** What this node last told the homeserver about a connected user, and when. */
interface Shown {
  readonly key: string;
  readonly presence: MatrixPresence;
  readonly statusMsg: string | undefined;
  at: number;
}

export type MirroredFanOut = FanOut & {
  /** The user chose a status: shown on Matrix now if they are connected here. */
  showChosen(userId: UserId, status: ChosenStatus): void;
  /** Stopping: those whose last connection here closed show offline now, not never. */
  stopPresence(): Promise<void>;
};

/** The fan-out, telling Matrix and the user's channels when a native user comes and goes. */
export function withPresenceMirror(fanout: FanOut, deps: PresenceMirrorDeps): MirroredFanOut {
  const { matrix, presence, preparePuppet, isNative, graceMs, refreshMs, log } = deps;
  const shown = new Map<UserId, Shown>();
  const leaving = new Map<UserId, NodeJS.Timeout>();
  let refresher: NodeJS.Timeout | undefined;
  // One change at a time per user, in order: an offline never overtakes the online after it.
  const queue = new KeyedQueue<UserId>();
  const tell = (userId: UserId, state: MatrixPresence, statusMsg: string | undefined) => {
    queue
      .run(userId, async () => {
        await preparePuppet(userId);
        await matrix.setPresence(userId, state, statusMsg);
      })
      .catch((error: unknown) => log.debug(`presence of ${userId} not shown on Matrix`, error));
  };
  // Each user is told again `refreshMs` after the last time, so the load spreads as connections do.
  const refresh = () => {
    const due = Date.now() - refreshMs;
    for (const [userId, last] of shown) {
      if (last.at > due) continue;
      last.at = Date.now();
      tell(userId, last.presence, last.statusMsg);
    }
  };
  const show = (userId: UserId, status: ChosenStatus | "offline") => {
    const { presence: state, statusMsg } =
      status === "offline"
        ? { presence: "offline" as const, statusMsg: undefined }
        : matrixPresenceOf(status);
    const key = `${state}\n${statusMsg ?? ""}`;
    if (shown.get(userId)?.key === key) return;
    if (state === "offline") shown.delete(userId);
    else shown.set(userId, { key, presence: state, statusMsg, at: Date.now() });
    if (refreshMs > 0 && refresher === undefined) {
      refresher = setInterval(refresh, Math.max(250, Math.floor(refreshMs / 4)));
      refresher.unref();
    }
    tell(userId, state, statusMsg);
  };
  const settle = async (userId: UserId) => {
    leaving.delete(userId);
    if ((await fanout.connectionCount(userId)) > 0) {
      // Still connected on another node, which tells Matrix from now on: what this node showed
      // is no longer its to know (a later reconnect here must show online again).
      shown.delete(userId);
      return;
    }
    show(userId, "offline");
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
      presence
        .chosen(userId)
        .then((status) => show(userId, status))
        .catch((error: unknown) => log.debug(`presence of ${userId} not read`, error));
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
      if (fanout.connectionCountHere(userId) > 0) show(userId, status);
    },
    async stopPresence() {
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
