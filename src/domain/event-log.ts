// The per-channel event log: the one place events get their `event_id`. Both paths (a native
// action's Matrix response, and the Matrix transaction echo) end here, and the Matrix event id
// makes them converge: whichever comes first logs and publishes, the other reads.
import type { ChatEvent, MemberContent, MessageContent } from "../protocol/events.ts";
import type { MatrixEventId, UserId } from "../protocol/ids.ts";
import type { ChannelRow, MemberChange, Store, StoredEvent } from "./store-port.ts";

export type LoggedContent =
  | { readonly eventType: "channel.message"; readonly content: MessageContent }
  | { readonly eventType: "channel.member"; readonly content: MemberContent };

export interface LogRequest {
  readonly channel: ChannelRow;
  readonly matrixEventId: MatrixEventId;
  readonly sender: UserId | null;
  readonly ts: number;
  readonly entry: LoggedContent;
  /** Applied in the same transaction, only if the event is new. */
  readonly memberChange?: MemberChange;
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
  }) as ChatEvent;

const newEvent = (request: LogRequest) => ({
  channelId: request.channel.id,
  matrixEventId: request.matrixEventId,
  eventType: request.entry.eventType,
  sender: request.sender,
  content: request.entry.content,
  ts: request.ts,
});

export function createEventLog(store: Store, publish: EventPublisher): EventLog {
  return {
    toChatEvent,
    record(request) {
      const stored = store.transaction(() => {
        const appended = store.appendEvent(newEvent(request));
        if (appended && request.memberChange) store.setMember(request.memberChange);
        if (appended && request.sender) store.touchMember(request.channel.id, request.sender, request.ts);
        return appended;
      });
      if (stored) {
        const event = toChatEvent(request.channel, stored);
        publish(request.channel, event);
        return { event, fresh: true };
      }
      const existing = store.eventByMatrixId(request.matrixEventId);
      if (!existing) throw new Error(`event ${request.matrixEventId} neither appended nor found`);
      return { event: toChatEvent(request.channel, existing), fresh: false };
    },
    prepend: (request) => store.prependEvent(newEvent(request)) !== undefined,
  };
}
