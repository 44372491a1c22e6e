// Who is around: native users with an open connection are online; Matrix users count as online
// while they were active (sent something, typed, read, or reported presence) recently.
import type { UserId } from "../protocol/ids.ts";
import type { FanOut } from "./fanout-port.ts";
import type { Store } from "./store-port.ts";

export const RECENTLY_ACTIVE_MS = 5 * 60_000;

export interface Activity {
  /** Must not block: called for every Matrix event and EDU. */
  touch(userId: UserId, at: number): void;
  isOnline(userId: UserId, now?: number): boolean;
  /** A native user's connection closed: they were seen in their channels until now. */
  connectionClosed(userId: UserId): void;
  connectionOpened(userId: UserId): void;
}

export function createActivity(
  store: Store,
  fanout: FanOut,
  isNative: (userId: UserId) => boolean,
): Activity {
  const lastActive = new Map<UserId, number>();
  return {
    touch(userId, at) {
      if (isNative(userId)) return;
      if ((lastActive.get(userId) ?? 0) < at) lastActive.set(userId, at);
    },
    isOnline(userId, now = Date.now()) {
      if (isNative(userId)) return fanout.isOnline(userId);
      return now - (lastActive.get(userId) ?? 0) < RECENTLY_ACTIVE_MS;
    },
    connectionOpened(userId) {
      store.touchJoinedMember(userId, Date.now());
    },
    connectionClosed(userId) {
      store.touchJoinedMember(userId, Date.now());
    },
  };
}
