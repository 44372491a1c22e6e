// Slow-mode windows and the typing board in Redis, shared by every node. Every key expires by
// itself: a window when it closes, a channel's typing when nobody refreshed it for a while.
import type { Redis } from "ioredis";
import { z } from "zod";
import type { PostWindows, SharedState, TypingBoard } from "../domain/ports/shared-state.ts";
import type { Logger } from "../logging.ts";
import { asUserId, type UserId } from "../protocol/ids.ts";
import { KEY_PREFIX, orElse, throttledWarn } from "./client.ts";

const userList = z.array(z.string().transform(asUserId));

/** Typing keys outlive their newest entry by this much (entries carry their own end). */
const TYPING_KEY_MS = 60_000;

function redisPostWindows(redis: Redis, warn: ReturnType<typeof throttledWarn>): PostWindows {
  const key = (channelId: number, userId: UserId) => `${KEY_PREFIX}post:${channelId}:${userId}`;
  return {
    lastPost: (channelId, userId) =>
      orElse(
        async () => {
          const at = await redis.get(key(channelId, userId));
          return at === null ? undefined : Number(at);
        },
        undefined,
        warn,
        "reading a slow-mode window",
      ),
    claimPost: (channelId, userId, at, windowMs) =>
      orElse(
        async () => {
          // NX with GET: set only if absent, and say what was there (Redis 7).
          const before = (await redis.call(
            "SET",
            key(channelId, userId),
            String(at),
            "PX",
            String(Math.max(1, Math.ceil(windowMs))),
            "NX",
            "GET",
          )) as string | null;
          return before === null ? undefined : Number(before);
        },
        undefined,
        warn,
        "taking a slow-mode window",
      ),
    recordPost: (channelId, userId, at, windowMs) =>
      orElse(
        async () => {
          await redis.set(key(channelId, userId), String(at), "PX", Math.max(1, Math.ceil(windowMs)));
        },
        undefined,
        warn,
        "recording a slow-mode window",
      ),
  };
}

function redisTypingBoard(redis: Redis, warn: ReturnType<typeof throttledWarn>): TypingBoard {
  const nativeKey = (channel: string) => `${KEY_PREFIX}typing:${channel}`;
  const matrixKey = (channel: string) => `${KEY_PREFIX}typing-matrix:${channel}`;
  return {
    start: (channel, userId, until) =>
      orElse(
        async () => {
          const [[, before]] = (await redis
            .multi()
            .hget(nativeKey(channel), userId)
            .hset(nativeKey(channel), userId, String(until))
            .pexpire(nativeKey(channel), TYPING_KEY_MS)
            .exec()) as [[Error | null, string | null], ...unknown[]];
          return before === null || Number(before) <= Date.now();
        },
        false,
        warn,
        "marking someone typing",
      ),
    stop: (channel, userId) =>
      orElse(async () => (await redis.hdel(nativeKey(channel), userId)) > 0, false, warn, "ending typing"),
    setMatrix: (channel, userIds) =>
      orElse(
        async () => {
          const next = JSON.stringify(userIds);
          const before = await redis.set(matrixKey(channel), next, "PX", TYPING_KEY_MS, "GET");
          return (before ?? "[]") !== next;
        },
        false,
        warn,
        "recording Matrix typing",
      ),
    typers: (channel, now) =>
      orElse(
        async () => {
          const [[, native], [, matrix]] = (await redis
            .multi()
            .hgetall(nativeKey(channel))
            .get(matrixKey(channel))
            .exec()) as [[Error | null, Record<string, string>], [Error | null, string | null]];
          const expired = Object.keys(native).filter((id) => Number(native[id]) <= now);
          if (expired.length > 0) await redis.hdel(nativeKey(channel), ...expired);
          const typing = Object.keys(native).filter((id) => Number(native[id]) > now) as UserId[];
          const others = matrix === null ? [] : userList.parse(JSON.parse(matrix));
          return [...typing, ...others];
        },
        [],
        warn,
        "reading who is typing",
      ),
  };
}

export function createRedisSharedState(redis: Redis, log: Logger): SharedState {
  const warn = throttledWarn(log);
  return { posts: redisPostWindows(redis, warn), typing: redisTypingBoard(redis, warn) };
}
