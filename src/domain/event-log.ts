// The per-channel event log: the one place events get their `event_id`. Both paths (a native
// action's Matrix response, and the Matrix transaction echo) end here, and the Matrix event id
// makes them converge: whichever comes first logs, applies its side effects and publishes; the
// other only reads.
import type { ChatEvent, MemberContent, MessageContent, ReactionContent } from "../protocol/events.ts";
import type { MatrixEventId, UserId } from "../protocol/ids.ts";
import type { ChannelRow, MemberChange, Store, StoredEvent } from "./ports/store.ts";

export type LoggedContent =
  | { readonly eventType: "channel.message"; readonly content: MessageContent }
  | { readonly eventType: "channel.member"; readonly content: MemberContent }
  | { readonly eventType: "channel.reaction"; readonly content: ReactionContent };

export interface LogRequest {
  readonly channel: ChannelRow;
  readonly matrixEventId: MatrixEventId;
  readonly sender: UserId | null;
  readonly ts: number;
  /** The content, or a function computing it after `apply` (a reaction summary). */
  readonly entry: LoggedContent | (() => LoggedContent);
  readonly replyTo?: number | undefined;
  readonly replaces?: number | undefined;
  /** Applied in the same transaction, only if the event is new. */
  readonly memberChange?: MemberChange;
  /** Side effects of a new event (an edit's rewrite, a reaction), in the same transaction. */
  readonly apply?: () => void;
}

/** Receives each newly logged event, right after its commit, in event_id order per channel. */
export type EventPublisher = (channel: ChannelRow, event: ChatEvent) => void;

export interface EventLog {
  /** Logs and publishes the event once; returns it as clients see it, whether new or not. */
  record(request: LogRequest): { event: ChatEvent; fresh: boolean };
  /** Logs an event older than everything logged (history from the homeserver); not published. */
  prepend(request: LogRequest): boolean;
  toChatEvent(channel: ChannelRow, stored: StoredEvent): ChatEvent;
}

export const toChatEvent = (channel: ChannelRow, stored: StoredEvent): ChatEvent =>
  ({
    channel: channel.name,
    event_type: stored.eventType,
    content: stored.content,
    ...(stored.sender === null ? {} : { sender: stored.sender }),
    event_id: stored.seq,
    ts: stored.ts,
    ...(stored.replyTo === null ? {} : { reply_to: stored.replyTo }),
    ...(stored.replaces === null ? {} : { replaces: stored.replaces }),
    ...(stored.edited ? { edited: true } : {}),
  }) as ChatEvent;

const newEvent = (request: LogRequest, entry: LoggedContent) => ({
  channelId: request.channel.id,
  matrixEventId: request.matrixEventId,
  eventType: entry.eventType,
  sender: request.sender,
  content: entry.content,
  ts: request.ts,
  replyTo: request.replyTo,
  replaces: request.replaces,
});

const entryOf = (request: LogRequest) =>
  typeof request.entry === "function" ? request.entry() : request.entry;

export function createEventLog(store: Store, publish: EventPublisher): EventLog {
  return {
    toChatEvent,
    record(request) {
      const outcome = store.transaction(() => {
        const existing = store.eventByMatrixId(request.matrixEventId);
        if (existing) return { stored: existing, fresh: false };
        request.apply?.();
        const appended = store.appendEvent(newEvent(request, entryOf(request)));
        if (!appended) throw new Error(`event ${request.matrixEventId} could not be appended`);
        if (request.memberChange) store.setMember(request.memberChange);
        if (request.sender) store.touchMember(request.channel.id, request.sender, request.ts);
        return { stored: appended, fresh: true };
      });
      const event = toChatEvent(request.channel, outcome.stored);
      if (outcome.fresh) publish(request.channel, event);
      return { event, fresh: outcome.fresh };
    },
    prepend: (request) => store.prependEvent(newEvent(request, entryOf(request))) !== undefined,
  };
}
