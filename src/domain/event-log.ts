// The per-channel event log: the one place events get their `event_id`. Native actions are logged
// first (their mirror to Matrix queued in the same transaction, see outbox.ts); events from Matrix
// are logged once by their Matrix event id, whether they come live or again later.
import type { ChatEvent, MemberContent, MessageContent, ReactionContent } from "../protocol/events.ts";
import type { EventSeq, MatrixEventId, UserId } from "../protocol/ids.ts";
import type { NewMirror, Outbox } from "./outbox.ts";
import type { ChannelRow, MemberChange, Store, StoredEvent } from "./ports/store.ts";

export type LoggedContent =
  | { readonly eventType: "channel.message"; readonly content: MessageContent }
  | { readonly eventType: "channel.member"; readonly content: MemberContent }
  | { readonly eventType: "channel.reaction"; readonly content: ReactionContent };

interface LogRequestBase {
  readonly channel: ChannelRow;
  readonly sender: UserId | null;
  readonly ts: number;
  /** The content, or a function computing it after `apply` (a reaction summary). */
  readonly entry: LoggedContent | (() => Promise<LoggedContent>);
  readonly replyTo?: number | undefined;
  readonly replaces?: number | undefined;
  /** Applied in the same transaction, only if the event is new. */
  readonly memberChange?: MemberChange;
  /** Side effects of a new event (an edit's rewrite, a reaction), in the same transaction. */
  readonly apply?: () => Promise<void>;
  /** Held for media review: heard only by moderators and the sender until a moderator marks it. */
  readonly pendingReview?: boolean;
}

/** An event that happened on Matrix: logged once per Matrix event id. */
export interface LogRequest extends LogRequestBase {
  readonly matrixEventId: MatrixEventId;
}

/** A native action: logged now, mirrored to Matrix by the outbox (unless `mirror` is absent). */
export interface NativeLogRequest extends LogRequestBase {
  readonly mirror?: NewMirror;
  /** Runs in the same transaction once logged (and the mirror queued, with its outbox entry). */
  readonly afterAppend?: (seq: EventSeq, outboxId: number | null) => Promise<void>;
}

/** Receives each newly logged event, right after its commit, in event_id order per channel. */
export type EventPublisher = (channel: ChannelRow, event: ChatEvent) => void;

export interface EventLog {
  /** Logs and publishes a Matrix event once; returns it as clients see it, whether new or not. */
  record(request: LogRequest): Promise<{ event: ChatEvent; fresh: boolean }>;
  /** Logs, publishes and queues the mirror of a native action. */
  recordNative(request: NativeLogRequest): Promise<ChatEvent>;
  /** Logs an event older than everything logged (history from the homeserver); not published. */
  prepend(request: LogRequest): Promise<boolean>;
  toChatEvent(channel: ChannelRow, stored: StoredEvent): ChatEvent;
}

/** Where the log queues mirrors; the outbox, or nothing in tests of the log alone. */
export type MirrorQueue = Pick<Outbox, "enqueue" | "wake">;

export const toChatEvent = (channel: ChannelRow, stored: StoredEvent): ChatEvent => {
  // A message to chosen recipients keeps them with its content; clients see them as `to`.
  const { to, ...content } = (stored.content ?? {}) as { to?: unknown };
  return {
    channel: channel.name,
    event_type: stored.eventType,
    content: Array.isArray(to) ? content : stored.content,
    ...(Array.isArray(to) ? { to } : {}),
    ...(stored.sender === null ? {} : { sender: stored.sender }),
    event_id: stored.seq,
    ts: stored.ts,
    ...(stored.replyTo === null ? {} : { reply_to: stored.replyTo }),
    ...(stored.replaces === null ? {} : { replaces: stored.replaces }),
    ...(stored.edited ? { edited: true } : {}),
    ...(stored.nsfw ? { nsfw: true } : {}),
    ...(stored.pendingReview ? { pending_review: true } : {}),
  } as ChatEvent;
};

const newEvent = (request: LogRequestBase, entry: LoggedContent, matrixEventId: MatrixEventId | null) => ({
  channelId: request.channel.id,
  matrixEventId,
  eventType: entry.eventType,
  sender: request.sender,
  content: entry.content,
  ts: request.ts,
  replyTo: request.replyTo,
  replaces: request.replaces,
  pendingReview: request.pendingReview,
});

const entryOf = (request: LogRequestBase) =>
  typeof request.entry === "function" ? request.entry() : request.entry;

export function createEventLog(store: Store, publish: EventPublisher, mirrors: MirrorQueue): EventLog {
  /** The shared part of both paths, inside their transaction. */
  const append = async (
    request: LogRequestBase,
    matrixEventId: MatrixEventId | null,
  ): Promise<StoredEvent> => {
    // Before `apply` and the entry read and change anything: writers of one channel take turns.
    await store.holdChannelLog(request.channel.id);
    await request.apply?.();
    const appended = await store.appendEvent(newEvent(request, await entryOf(request), matrixEventId));
    if (!appended) throw new Error(`an event of channel ${request.channel.id} could not be appended`);
    if (request.memberChange) await store.setMember(request.memberChange);
    if (request.sender) await store.touchMember(request.channel.id, request.sender, request.ts);
    return appended;
  };

  return {
    toChatEvent,
    async record(request) {
      const outcome = await store.transaction(async () => {
        // Held before looking: two nodes recording one Matrix event find it once.
        await store.holdChannelLog(request.channel.id);
        const existing = await store.eventByMatrixId(request.matrixEventId);
        if (existing) return { event: toChatEvent(request.channel, existing), fresh: false };
        const event = toChatEvent(request.channel, await append(request, request.matrixEventId));
        store.afterCommit(() => publish(request.channel, event));
        return { event, fresh: true };
      });
      return outcome;
    },
    async recordNative(request) {
      return await store.transaction(async () => {
        const appended = await append(request, null);
        const outboxId = request.mirror
          ? await mirrors.enqueue(request.channel.id, appended.seq, request.mirror, request.ts)
          : null;
        await request.afterAppend?.(appended.seq, outboxId);
        const event = toChatEvent(request.channel, appended);
        store.afterCommit(() => {
          publish(request.channel, event);
          if (request.mirror) mirrors.wake(request.channel.id);
        });
        return event;
      });
    },
    prepend: async (request) =>
      (await store.prependEvent(newEvent(request, await entryOf(request), request.matrixEventId))) !==
      undefined,
  };
}
