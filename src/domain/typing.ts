// Who is typing where. Native typing expires by itself after TYPING_TIMEOUT_MS unless refreshed
// (so a client that vanishes stops typing), and stops when the user's last connection closes.
// Matrix users' typing comes as the full list in m.typing EDUs. Subscribers get the whole list,
// `["chat.typing", {"channel", "users"}]`, whenever it changes. Best effort throughout.
import type { Logger } from "../logging.ts";
import { ProtocolError } from "../protocol/errors.ts";
import { pushFrame } from "../protocol/frames.ts";
import type { ChannelName, RoomId, UserId } from "../protocol/ids.ts";
import { guarded } from "../shared/guard.ts";
import type { Actor } from "./actor.ts";
import type { Channels } from "./channels.ts";
import type { Membership } from "./membership.ts";
import type { Naming } from "./naming.ts";
import type { FanOut } from "./ports/fanout.ts";
import type { MatrixPort } from "./ports/matrix.ts";
import type { ChannelRow, Store } from "./ports/store.ts";

export const TYPING_TIMEOUT_MS = 15_000;

export interface Typing {
  setNative(actor: Actor, channel: ChannelName, typing: boolean): Promise<void>;
  /** The complete list of users typing in a room, from Matrix. */
  matrixTyping(roomId: RoomId, userIds: readonly UserId[]): Promise<void>;
  /** The user has no connection left. */
  userGone(userId: UserId): void;
}

interface ChannelTyping {
  readonly native: Map<UserId, NodeJS.Timeout>;
  matrix: UserId[];
}

export interface TypingDeps {
  readonly store: Store;
  readonly channels: Channels;
  readonly membership: Membership;
  readonly matrix: MatrixPort;
  readonly fanout: FanOut;
  readonly naming: Naming;
  readonly log: Logger;
}

export function createTyping(deps: TypingDeps): Typing {
  const { store, channels, membership, matrix, fanout, naming, log } = deps;
  const state = new Map<ChannelName, ChannelTyping>();
  const of = (channel: ChannelName) => {
    let typing = state.get(channel);
    if (!typing) {
      typing = { native: new Map(), matrix: [] };
      state.set(channel, typing);
    }
    return typing;
  };
  const publish = (channel: ChannelName) => {
    const typing = of(channel);
    const users = [...typing.native.keys(), ...typing.matrix];
    fanout.publish(channel, pushFrame("chat.typing", { channel, users }));
    if (users.length === 0) state.delete(channel);
  };
  const mirror = (channel: ChannelRow, userId: UserId, typing: boolean) => {
    matrix.setTyping(channel.roomId, userId, typing, TYPING_TIMEOUT_MS).catch((error: unknown) => {
      log.debug(`typing for ${userId} in ${channel.name} not mirrored`, error);
    });
  };
  const stop = (channel: ChannelName, userId: UserId, tellMatrix: boolean) => {
    const typing = state.get(channel);
    const timer = typing?.native.get(userId);
    if (!typing || !timer) return;
    clearTimeout(timer);
    typing.native.delete(userId);
    publish(channel);
    if (!tellMatrix) return;
    channels.find(channel).then(
      (row) => {
        if (row) mirror(row, userId, false);
      },
      (error: unknown) => log.debug(`typing end of ${userId} in ${channel} not mirrored`, error),
    );
  };

  return {
    async setNative(actor, name, typing) {
      const userId = actor.userId;
      const channel = await channels.get(name, actor);
      if (!(await membership.isJoined(userId, channel)))
        throw new ProtocolError("chat.denied", "Join the channel to type in it.");
      if (!typing) {
        stop(name, userId, true);
        return;
      }
      const current = of(name);
      const known = current.native.get(userId);
      clearTimeout(known);
      // Matrix times out by itself; here the timer tells subscribers.
      current.native.set(
        userId,
        setTimeout(
          guarded(log, "ending typing", () => stop(name, userId, false)),
          TYPING_TIMEOUT_MS,
        ),
      );
      if (!known) publish(name);
      mirror(channel, userId, true);
    },
    async matrixTyping(roomId, userIds) {
      const channel = await store.channelByRoom(roomId);
      if (!channel) return;
      const others = userIds.filter((id) => !naming.isNativeUser(id) && id !== naming.botUserId);
      const typing = of(channel.name);
      if (others.length === typing.matrix.length && others.every((id, i) => typing.matrix[i] === id)) {
        if (typing.native.size === 0 && others.length === 0) state.delete(channel.name);
        return;
      }
      typing.matrix = others;
      publish(channel.name);
    },
    userGone(userId) {
      for (const [channel, typing] of [...state]) if (typing.native.has(userId)) stop(channel, userId, true);
    },
  };
}
