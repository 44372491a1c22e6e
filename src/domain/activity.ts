// Who is around: native users with an open connection are online; Matrix users count as online
// while they were active (sent something, typed, read, or reported presence) recently.
import type { Logger } from "../logging.ts";
import type { UserId } from "../protocol/ids.ts";
import { guarded } from "../shared/guard.ts";
import type { FanOut } from "./ports/fanout.ts";
import type { Store } from "./ports/store.ts";

export const RECENTLY_ACTIVE_MS = 5 * 60_000;

export interface Activity {
  /** Must not block: called for every Matrix event and EDU. */
  touch(userId: UserId, at: number): void;
  /** Those of `userIds` online now: native users connected to any node, Matrix users active lately. */
  onlineAmong(userIds: readonly UserId[], now?: number): Promise<Set<UserId>>;
  /** Everyone online now, as onlineAmong counts them. */
  onlineUsers(now?: number): Promise<UserId[]>;
  /** A native user's connection closed: they were seen in their channels until now. */
  connectionClosed(userId: UserId): void;
  connectionOpened(userId: UserId): void;
  /** Writes the "seen" times gathered since the last flush (call before reading them). */
  flush(): Promise<void>;
  /** Starts writing them every few seconds. */
  start(): void;
  stop(): Promise<void>;
}

/**
 * Seen-times are written in batches: one synchronous disk write per connect and disconnect would
 * hold a reconnect storm (1,000 clients at once) to the disk's pace.
 */
const FLUSH_EVERY_MS = 2_000;
/** Above this many tracked Matrix users, those inactive for the window are forgotten. */
const PRUNE_ABOVE = 50_000;

export function createActivity(
  store: Store,
  fanout: FanOut,
  isNative: (userId: UserId) => boolean,
  log: Logger,
): Activity {
  const lastActive = new Map<UserId, number>();
  const seen = new Map<UserId, number>();

  const prune = (now: number) => {
    for (const [userId, at] of lastActive) if (now - at >= RECENTLY_ACTIVE_MS) lastActive.delete(userId);
  };
  const flush = async () => {
    if (seen.size === 0) return;
    // In user order: two nodes writing overlapping users then lock rows in the same order.
    const batch = [...seen].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    seen.clear();
    try {
      await store.transaction(async () => {
        for (const [userId, at] of batch) await store.touchJoinedMember(userId, at);
      });
    } catch (error) {
      // Kept for the next flush (unless something newer was seen meanwhile).
      for (const [userId, at] of batch) if ((seen.get(userId) ?? 0) < at) seen.set(userId, at);
      throw error;
    }
  };
  let timer: NodeJS.Timeout | undefined;

  return {
    touch(userId, at) {
      if (isNative(userId)) return;
      if ((lastActive.get(userId) ?? 0) < at) lastActive.set(userId, at);
      if (lastActive.size > PRUNE_ABOVE) prune(Date.now());
    },
    async onlineAmong(userIds, now = Date.now()) {
      const online = await fanout.onlineAmong(userIds.filter(isNative));
      for (const userId of userIds) {
        if (!isNative(userId) && now - (lastActive.get(userId) ?? 0) < RECENTLY_ACTIVE_MS) online.add(userId);
      }
      return online;
    },
    async onlineUsers(now = Date.now()) {
      const online = await fanout.onlineUsers();
      for (const [userId, at] of lastActive) if (now - at < RECENTLY_ACTIVE_MS) online.push(userId);
      return online;
    },
    connectionOpened(userId) {
      seen.set(userId, Date.now());
    },
    connectionClosed(userId) {
      seen.set(userId, Date.now());
    },
    flush,
    start() {
      timer ??= setInterval(guarded(log, "writing seen-times", flush), FLUSH_EVERY_MS);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      timer = undefined;
      await flush();
    },
  };
}
