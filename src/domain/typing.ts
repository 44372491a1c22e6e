// Who is typing where. Native typing expires by itself after TYPING_TIMEOUT_MS unless refreshed
// (so a client that vanishes stops typing), and stops when the user's last connection (on the node
// that had it) closes. The list lives on a board every node shares.
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
import type { TypingBoard } from "./ports/shared-state.ts";
import type { ChannelRow, Store } from "./ports/store.ts";

export const TYPING_TIMEOUT_MS = 15_000;

export interface Typing {
  setNative(actor: Actor, channel: ChannelName, typing: boolean): Promise<void>;
  /** The complete list of users typing in a room, from Matrix. */
  matrixTyping(roomId: RoomId, userIds: readonly UserId[]): Promise<void>;
  /** The user has no connection left. */
  userGone(userId: UserId): Promise<void>;
}

export interface TypingDeps {
  readonly store: Store;
  readonly channels: Channels;
  readonly membership: Membership;
  readonly matrix: MatrixPort;
  readonly fanout: FanOut;
  readonly naming: Naming;
  /** Who types where, shared by every node. */
  readonly board: TypingBoard;
  readonly log: Logger;
}

export function createTyping(deps: TypingDeps): Typing {
  const { store, channels, membership, matrix, fanout, naming, board, log } = deps;
  /** This node's typers and the timers that end their typing; the board has everyone's. */
  const timers = new Map<ChannelName, Map<UserId, NodeJS.Timeout>>();
  const publish = async (channel: ChannelName) => {
    const users = await board.typers(channel, Date.now());
    fanout.publish(channel, pushFrame("chat.typing", { channel, users }));
  };
  const mirror = (channel: ChannelRow, userId: UserId, typing: boolean) => {
    matrix.setTyping(channel.roomId, userId, typing, TYPING_TIMEOUT_MS).catch((error: unknown) => {
      log.debug(`typing for ${userId} in ${channel.name} not mirrored`, error);
    });
  };
  const stop = async (channel: ChannelName, userId: UserId, tellMatrix: boolean) => {
    const mine = timers.get(channel);
    clearTimeout(mine?.get(userId));
    if (mine?.delete(userId) && mine.size === 0) timers.delete(channel);
    if (!(await board.stop(channel, userId))) return;
    await publish(channel);
    if (!tellMatrix) return;
    const row = await channels.find(channel);
    if (row) mirror(row, userId, false);
  };

  return {
    async setNative(actor, name, typing) {
      const userId = actor.userId;
      const channel = await channels.get(name, actor);
      if (!(await membership.isJoined(userId, channel)))
        throw new ProtocolError("chat.denied", "Join the channel to type in it.");
      if (!typing) {
        await stop(name, userId, true);
        return;
      }
      let mine = timers.get(name);
      if (!mine) {
        mine = new Map();
        timers.set(name, mine);
      }
      clearTimeout(mine.get(userId));
      // Matrix times out by itself; here the timer tells subscribers (the board's entry expires
      // by itself too, should this node die first).
      mine.set(
        userId,
        setTimeout(
          guarded(log, "ending typing", () => stop(name, userId, false)),
          TYPING_TIMEOUT_MS,
        ),
      );
      if (await board.start(name, userId, Date.now() + TYPING_TIMEOUT_MS)) await publish(name);
      mirror(channel, userId, true);
    },
    async matrixTyping(roomId, userIds) {
      const channel = await store.channelByRoom(roomId);
      if (!channel) return;
      const others = userIds.filter((id) => !naming.isNativeUser(id) && id !== naming.botUserId);
      if (await board.setMatrix(channel.name, others)) await publish(channel.name);
    },
    async userGone(userId) {
      for (const [channel, mine] of [...timers]) if (mine.has(userId)) await stop(channel, userId, true);
    },
  };
}
