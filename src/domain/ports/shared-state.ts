// What nodes share but need not keep: when users last posted (slow mode) and who is typing. In
// process on one node (src/shared-state/memory.ts), in Redis across nodes (src/redis/), where
// every entry expires by itself, so a node that dies leaves nothing behind for long.
import type { ChannelName, UserId } from "../../protocol/ids.ts";

/** Slow mode's memory: a user's last post in a channel, for as long as the window lasts. */
export interface PostWindows {
  lastPost(channelId: number, userId: UserId): Promise<number | undefined>;
  /** Remembers a post at `at` for `windowMs`. */
  recordPost(channelId: number, userId: UserId, at: number, windowMs: number): Promise<void>;
  /**
   * Takes the window atomically: when the user has no open window, opens one at `at` and answers
   * undefined; otherwise answers when their last post was (and changes nothing). Two posts racing
   * through different connections or nodes cannot both get it.
   */
  claimPost(channelId: number, userId: UserId, at: number, windowMs: number): Promise<number | undefined>;
}

/** Who is typing in a channel: native users until their entry expires, and Matrix users' list. */
export interface TypingBoard {
  /** Marks the user typing until `until` (ms); true when they were not typing before. */
  start(channel: ChannelName, userId: UserId, until: number): Promise<boolean>;
  /** True when they were typing. */
  stop(channel: ChannelName, userId: UserId): Promise<boolean>;
  /** Replaces the Matrix users' list; true when it changed. */
  setMatrix(channel: ChannelName, userIds: readonly UserId[]): Promise<boolean>;
  /** Everyone typing at `now`: native users first, then Matrix users. */
  typers(channel: ChannelName, now: number): Promise<UserId[]>;
}

export interface SharedState {
  readonly posts: PostWindows;
  readonly typing: TypingBoard;
}
