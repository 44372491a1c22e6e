// A native user's presence on Matrix follows their connections: the puppet is online while they
// have one (on any node), offline a grace period after the last one closed, so a reconnect does
// not flicker. Best effort: the homeserver being away only leaves a stale dot, logged at debug.
import type { Logger } from "../logging.ts";
import type { UserId } from "../protocol/ids.ts";
import { KeyedQueue } from "../shared/keyed-queue.ts";
import type { FanOut, Subscriber } from "./ports/fanout.ts";
import type { MatrixPort } from "./ports/matrix.ts";

export interface PresenceMirrorDeps {
  readonly matrix: Pick<MatrixPort, "setPresence">;
  /** Registers the puppet (and its name) before it first says anything. */
  readonly preparePuppet: (userId: UserId) => Promise<void>;
  readonly isNative: (userId: UserId) => boolean;
  readonly graceMs: number;
  readonly log: Logger;
}

/** The fan-out, telling Matrix when a native user comes and goes. */
export function withPresenceMirror(
  fanout: FanOut,
  deps: PresenceMirrorDeps,
): FanOut & { stopPresence(): void } {
  const { matrix, preparePuppet, isNative, graceMs, log } = deps;
  const shown = new Map<UserId, "online" | "offline">();
  const leaving = new Map<UserId, NodeJS.Timeout>();
  // One change at a time per user, in order: an offline never overtakes the online after it.
  const queue = new KeyedQueue<UserId>();
  const show = (userId: UserId, presence: "online" | "offline") => {
    if (shown.get(userId) === presence) return;
    shown.set(userId, presence);
    if (presence === "offline") shown.delete(userId);
    queue
      .run(userId, async () => {
        await preparePuppet(userId);
        await matrix.setPresence(userId, presence);
      })
      .catch((error: unknown) => log.debug(`presence of ${userId} not shown on Matrix`, error));
  };
  const settle = async (userId: UserId) => {
    leaving.delete(userId);
    if ((await fanout.connectionCount(userId)) === 0) show(userId, "offline");
  };
  return {
    ...fanout,
    addConnection(subscriber: Subscriber) {
      fanout.addConnection(subscriber);
      const userId = subscriber.userId;
      if (!isNative(userId)) return;
      clearTimeout(leaving.get(userId));
      leaving.delete(userId);
      show(userId, "online");
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
    stopPresence() {
      for (const timer of leaving.values()) clearTimeout(timer);
      leaving.clear();
    },
  };
}
