// Power levels changed natively (timeouts, silences, roles): they hold in Parley at once and reach
// the room through the outbox. Until they have, what Matrix says of the room is read with the
// changes still on their way applied over it, so an echo or a change made in Element meanwhile
// does not undo a timeout that is not in the room yet.
import type { UserId } from "../../protocol/ids.ts";
import type { MirrorQueue } from "../event-log.ts";
import type { OutboxPayload } from "../outbox.ts";
import type { ChannelRow, Store } from "../ports/store.ts";

export interface PowerLevelChanges {
  /**
   * Sets one user's level (null: back to the default) now, and queues it for the room: as `by`'s
   * puppet (the moderator) where given, else as the bot; `notice` follows it from the bot.
   */
  set(
    channel: ChannelRow,
    userId: UserId,
    level: number | null,
    options?: { readonly by?: UserId | null; readonly notice?: string },
  ): Promise<void>;
  /** A notice from the bot in the room, in order with the channel's other mirrored actions. */
  say(channel: ChannelRow, body: string): Promise<void>;
  /** A state event of Parley's own in the room (docs/protocol.md lists them), from the bot. */
  showState(channel: ChannelRow, type: string, content: Record<string, unknown>): Promise<void>;
  /** Stores the room's m.room.power_levels content as Matrix has it now. */
  fromMatrix(channelId: number, content: unknown): Promise<void>;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** `content` with one user's level set (or their entry removed). */
export function withLevel(content: unknown, userId: UserId, level: number | null): Record<string, unknown> {
  const base = isRecord(content) ? content : {};
  const users = Object.entries(isRecord(base.users) ? base.users : {}).filter(([id]) => id !== userId);
  if (level !== null) users.push([userId, level]);
  return { ...base, users: Object.fromEntries(users) };
}

/** The room's content with the channel's power-level changes still in the outbox applied. */
export async function withPendingLevels(store: Store, channelId: number, content: unknown): Promise<unknown> {
  let levels = content;
  for (const entry of await store.pendingOutbox(channelId, "power_level")) {
    const change = entry.payload as OutboxPayload["power_level"];
    levels = withLevel(levels, change.userId, change.level);
  }
  return levels;
}

export function createPowerLevelChanges(store: Store, mirrors: MirrorQueue): PowerLevelChanges {
  /** Queued with the channel's log held: in order among the channel's messages, on any node. */
  const queue = (channel: ChannelRow, work: () => Promise<void>) =>
    store.transaction(async () => {
      await store.holdChannelLog(channel.id);
      await work();
      store.afterCommit(() => mirrors.wake(channel.id));
    });
  const say = async (channel: ChannelRow, body: string) => {
    await mirrors.enqueue(channel.id, null, { kind: "notice", actor: null, payload: { body } }, Date.now());
  };
  return {
    async set(channel, userId, level, options = {}) {
      await queue(channel, async () => {
        // Two changes at once (on two nodes) do not overwrite each other: the log is held.
        const current = (await store.channelById(channel.id))?.powerLevels ?? channel.powerLevels;
        await store.setPowerLevels(channel.id, withLevel(current, userId, level));
        await mirrors.enqueue(
          channel.id,
          null,
          { kind: "power_level", actor: options.by ?? null, payload: { userId, level } },
          Date.now(),
        );
        if (options.notice !== undefined) await say(channel, options.notice);
      });
    },
    say: (channel, body) => queue(channel, () => say(channel, body)),
    showState: (channel, type, content) =>
      queue(channel, async () => {
        await mirrors.enqueue(
          channel.id,
          null,
          { kind: "room_state", actor: null, payload: { type, content } },
          Date.now(),
        );
      }),
    async fromMatrix(channelId, content) {
      await store.setPowerLevels(channelId, await withPendingLevels(store, channelId, content));
    },
  };
}
