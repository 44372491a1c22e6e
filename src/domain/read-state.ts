// Read state: per user and channel, the last event_id they have read. Members are told when a
// channel they are in has something new (`chat.unread_pointers`), at most once between two reads,
// so a busy channel costs each member one push, not one per message.
import type { Logger } from "../logging.ts";
import { ProtocolError } from "../protocol/errors.ts";
import { pushFrame } from "../protocol/frames.ts";
import type { ChannelName, UserId } from "../protocol/ids.ts";
import { asEventSeq } from "../protocol/ids.ts";
import { dict } from "../shared/dict.ts";
import type { Channels } from "./channels.ts";
import type { EventPublisher, MirrorQueue } from "./event-log.ts";
import type { Naming } from "./naming.ts";
import type { Notifications } from "./notifications.ts";
import type { FanOut } from "./ports/fanout.ts";
import type { MatrixPort } from "./ports/matrix.ts";
import type { Store } from "./ports/store.ts";
import { retryWhenRateLimited } from "./retry.ts";

const MEMBERS_TTL_MS = 2_000;

export interface ReadSummary {
  readonly channels: Array<{ id: ChannelName; unread_pointer: number }>;
  readonly readPointers: Record<string, number>;
  readonly notificationCounts: Record<string, number>;
}

export interface ReadState {
  summary(userId: UserId): Promise<ReadSummary>;
  /** Moves the user's pointer forward (never back) and mirrors it as a Matrix read receipt. */
  markRead(userId: UserId, connectionId: number, channel: ChannelName, id: number): Promise<void>;
  /** Hook for newly logged events: sends unread pointers to members. */
  readonly onLogged: EventPublisher;
}

export interface ReadStateDeps {
  readonly store: Store;
  readonly channels: Channels;
  readonly matrix: MatrixPort;
  readonly fanout: FanOut;
  readonly naming: Naming;
  readonly notifications: Notifications;
  readonly log: Logger;
  readonly mirrors: MirrorQueue;
}

export function createReadState(deps: ReadStateDeps): ReadState {
  const { store, channels, matrix, fanout, naming, notifications, log, mirrors } = deps;
  /** Per channel id: members already told about unread events since their last read. */
  const notified = new Map<number, Set<UserId>>();
  /**
   * The channel's native members, re-read at most every MEMBERS_TTL_MS: this runs for every
   * message, and a busy live channel has thousands of members. An unread push to someone who
   * joined a second ago can wait for the next message.
   */
  const members = new Map<number, { at: number; ids: UserId[] }>();
  const nativeMembers = async (channelId: number): Promise<UserId[]> => {
    const now = Date.now();
    const cached = members.get(channelId);
    if (cached && now - cached.at < MEMBERS_TTL_MS) return cached.ids;
    const ids = (await store.joinedMembers(channelId))
      .map((m) => m.userId)
      .filter((id) => naming.isNativeUser(id));
    members.set(channelId, { at: now, ids });
    return ids;
  };

  const notifiedIn = (channelId: number) => {
    let set = notified.get(channelId);
    if (!set) {
      set = new Set();
      notified.set(channelId, set);
    }
    return set;
  };

  return {
    async summary(userId) {
      const readPointers = dict<number>();
      for (const pointer of await store.readPointers(userId)) {
        const channel = await store.channelById(pointer.channelId);
        if (channel) readPointers[channel.name] = pointer.seq;
      }
      const channels = [];
      for (const channel of await store.channelsJoinedBy(userId)) {
        channels.push({ id: channel.name, unread_pointer: await store.latestMessageSeq(channel.id) });
      }
      return { channels, readPointers, notificationCounts: await notifications.counts(userId) };
    },

    async markRead(userId, connectionId, name, id) {
      const channel = await channels.find(name);
      if (!channel) throw new ProtocolError("chat.unknown", `No channel ${name}.`);
      const newest = (await store.nextSeq(channel.id)) - 1;
      const seq = Math.min(id, newest);
      if (!(await store.advanceReadPointer(userId, channel.id, seq, Date.now()))) return;
      notified.get(channel.id)?.delete(userId);
      await notifications.read(userId, channel, seq);
      fanout.sendToUser(userId, pushFrame("chat.read_pointers", { [name]: seq }), connectionId);
      const event = await store.eventBySeq(channel.id, asEventSeq(seq));
      if (!event || (await store.member(channel.id, userId))?.membership !== "join") return;
      const matrixEventId = event.matrixEventId;
      if (matrixEventId === null) {
        // Read before it reached Matrix: the receipt follows it through the outbox, queued with the
        // channel's log held so it takes its place after the messages logged before it.
        await store.transaction(async () => {
          await store.holdChannelLog(channel.id);
          await mirrors.enqueue(
            channel.id,
            null,
            { kind: "receipt", actor: userId, payload: { target: seq } },
            Date.now(),
          );
        });
        mirrors.wake(channel.id);
        return;
      }
      // The pointer is ours and stored; the receipt, a courtesy to Matrix clients, follows.
      retryWhenRateLimited(() => matrix.sendReceipt(channel.roomId, userId, matrixEventId)).catch(
        (error: unknown) => log.warn(`read receipt for ${userId} in ${name} failed`, error),
      );
    },

    onLogged(channel, event) {
      // A message held for media review, or to chosen recipients, tells nobody: most members would
      // find nothing new (and learn that something was said).
      if (event.event_type !== "channel.message" || event.pending_review || event.to !== undefined) return;
      const frame = pushFrame("chat.unread_pointers", { [channel.name]: event.event_id });
      // Who is told first does not matter: each member is told once until they read.
      nativeMembers(channel.id).then(
        (ids) => {
          const told = notifiedIn(channel.id);
          for (const userId of ids) {
            // Each node tells the members connected to it.
            if (userId === event.sender || told.has(userId) || !fanout.isConnectedHere(userId)) continue;
            told.add(userId);
            fanout.sendToUserHere(userId, frame);
          }
        },
        (error: unknown) => log.warn(`unread pointers of ${channel.name} not pushed`, error),
      );
    },
  };
}
