// The shared state of a one-node installation, in process. Entries past their time are dropped
// when met, and swept now and then, so the maps hold recent activity only.
import type { PostWindows, SharedState, TypingBoard } from "../domain/ports/shared-state.ts";
import type { ChannelName, UserId } from "../protocol/ids.ts";

const SWEEP_ABOVE = 1_000;

function memoryPostWindows(): PostWindows {
  /** Per channel: user -> [posted at, forgotten after]. */
  const channels = new Map<number, Map<UserId, readonly [number, number]>>();
  return {
    async lastPost(channelId, userId) {
      const entry = channels.get(channelId)?.get(userId);
      return entry && entry[1] > Date.now() ? entry[0] : undefined;
    },
    async claimPost(channelId, userId, at, windowMs) {
      const entry = channels.get(channelId)?.get(userId);
      if (entry && entry[1] > Date.now()) return entry[0];
      await this.recordPost(channelId, userId, at, windowMs);
      return undefined;
    },
    async recordPost(channelId, userId, at, windowMs) {
      let users = channels.get(channelId);
      if (!users) {
        users = new Map();
        channels.set(channelId, users);
      }
      users.set(userId, [at, Date.now() + windowMs]);
      if (users.size > SWEEP_ABOVE) {
        const now = Date.now();
        for (const [id, [, until]] of users) if (until <= now) users.delete(id);
      }
    },
  };
}

function memoryTypingBoard(): TypingBoard {
  const channels = new Map<ChannelName, { native: Map<UserId, number>; matrix: readonly UserId[] }>();
  const of = (channel: ChannelName) => {
    let typing = channels.get(channel);
    if (!typing) {
      typing = { native: new Map(), matrix: [] };
      channels.set(channel, typing);
    }
    return typing;
  };
  const forgetIfEmpty = (channel: ChannelName) => {
    const typing = channels.get(channel);
    if (typing && typing.native.size === 0 && typing.matrix.length === 0) channels.delete(channel);
  };
  return {
    async start(channel, userId, until) {
      const typing = of(channel);
      const before = typing.native.get(userId);
      typing.native.set(userId, until);
      return before === undefined || before <= Date.now();
    },
    async stop(channel, userId) {
      const was = channels.get(channel)?.native.delete(userId) ?? false;
      forgetIfEmpty(channel);
      return was;
    },
    async setMatrix(channel, userIds) {
      const typing = of(channel);
      const same =
        userIds.length === typing.matrix.length && userIds.every((id, i) => typing.matrix[i] === id);
      typing.matrix = [...userIds];
      forgetIfEmpty(channel);
      return !same;
    },
    async typers(channel, now) {
      const typing = channels.get(channel);
      if (!typing) return [];
      for (const [id, until] of typing.native) if (until <= now) typing.native.delete(id);
      return [...typing.native.keys(), ...typing.matrix];
    },
  };
}

export function createMemorySharedState(): SharedState {
  return { posts: memoryPostWindows(), typing: memoryTypingBoard() };
}
