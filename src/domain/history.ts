// History: paging through a channel's log, and reaching back into the Matrix room for what was
// said before Parley logged the channel (a room that already had messages when it was adopted).
// Backfilled events get event_ids below the oldest known one: 0, -1, -2, ...
import { ProtocolError } from "../protocol/errors.ts";
import type { ChatEvent, FetchResult, UserView } from "../protocol/events.ts";
import type { ChannelName, UserId } from "../protocol/ids.ts";
import { dict } from "../shared/dict.ts";
import type { Channels } from "./channels.ts";
import { type EventLog, toChatEvent } from "./event-log.ts";
import type { Hearing } from "./hearing.ts";
import type { Naming } from "./naming.ts";
import type { MatrixPort } from "./ports/matrix.ts";
import type { ChannelRow, Store } from "./ports/store.ts";
import { isShownMembership, memberContent, type RoomEventInput } from "./room-events.ts";
import type { Users } from "./users.ts";

export interface FetchRequest {
  readonly channel: ChannelName;
  readonly count: number;
  readonly before_id?: number | undefined;
  readonly after_id?: number | undefined;
}

export type { FetchResult };

export interface History {
  /**
   * The caller's right to read the channel is checked before (handlers/history.ts); `listener`
   * gets only what they hear (audiences, ignores).
   */
  fetch(request: FetchRequest, listener: UserId): Promise<FetchResult>;
}

/** Pages of Matrix history read per backfill, at most, so one fetch cannot run away. */
const BACKFILL_PAGES = 5;
const BACKFILL_PAGE_SIZE = 100;
/** Pages a fetch reads at most looking for one this listener may hear, before answering empty. */
const HIDDEN_PAGES_SCANNED = 20;

export interface HistoryDeps {
  readonly hearing: Hearing;
  readonly store: Store;
  readonly channels: Channels;
  readonly users: Users;
  readonly matrix: MatrixPort;
  readonly eventLog: EventLog;
  readonly naming: Naming;
  /** Whether an event carries the marker of this installation's outbox. */
  readonly ownsMarker: (marker: string | null, sender: UserId) => boolean;
}

export function createHistory(deps: HistoryDeps): History {
  const { store, channels, users, matrix, eventLog, naming, hearing, ownsMarker } = deps;
  const inFlight = new Map<number, Promise<void>>();

  const prepend = async (channel: ChannelRow, input: RoomEventInput): Promise<boolean> => {
    // What Parley's outbox posted is in the log already (or was withdrawn).
    if (
      (input.kind === "message" || input.kind === "member") &&
      ownsMarker(input.event.marker, input.event.sender)
    )
      return false;
    if (input.kind === "message") {
      const e = input.event;
      // Old edits are not replayed onto old messages: backfilled history shows them as first sent.
      if (e.sender === naming.botUserId || e.replaces !== null) return false;
      return eventLog.prepend({
        channel,
        matrixEventId: e.matrixEventId,
        sender: e.sender,
        ts: e.ts,
        entry: { eventType: "channel.message", content: e.content },
      });
    }
    if (input.kind === "member") {
      const e = input.event;
      if (e.target === naming.botUserId || !isShownMembership(e.membership)) return false;
      const profile = { display_name: e.displayName, avatar_url: e.avatarUrl };
      return eventLog.prepend({
        channel,
        matrixEventId: e.matrixEventId,
        sender: e.sender,
        ts: e.ts,
        entry: { eventType: "channel.member", content: memberContent(e, profile) },
      });
    }
    return false;
  };

  const backfill = async (channel: ChannelRow, wanted: number): Promise<void> => {
    const state = await store.backfill(channel.id);
    if (state.done) return;
    let token = state.token;
    if (token === null) {
      const oldest = await store.oldestMirroredEvent(channel.id);
      token = oldest?.matrixEventId
        ? (await matrix.eventContext(channel.roomId, oldest.matrixEventId)).start
        : null;
    }
    let added = 0;
    let done = false;
    for (let page = 0; page < BACKFILL_PAGES && added < wanted; page++) {
      const result = await matrix.roomMessages(channel.roomId, token, "b", BACKFILL_PAGE_SIZE);
      for (const input of result.events)
        if (input.kind !== "skip" && (await prepend(channel, input))) added++;
      if (result.next === null || result.events.length === 0) {
        done = true;
        break;
      }
      token = result.next;
    }
    await store.setBackfill(channel.id, { token, done });
  };

  const backfillOnce = (channel: ChannelRow, wanted: number) => {
    let pending = inFlight.get(channel.id);
    if (!pending) {
      pending = backfill(channel, wanted).finally(() => inFlight.delete(channel.id));
      inFlight.set(channel.id, pending);
    }
    return pending;
  };

  const usersOf = async (events: ChatEvent[]): Promise<Record<string, UserView>> => {
    const ids = new Set<UserId>();
    for (const event of events) {
      if (event.sender) ids.add(event.sender);
      if (event.event_type === "channel.member") ids.add(event.content.user.id);
    }
    const map = dict<UserView>();
    for (const id of ids) {
      const view = await users.knownView(id);
      if (view) map[id] = view;
    }
    return map;
  };

  return {
    async fetch(request, listener) {
      const channel = await channels.find(request.channel);
      if (!channel) throw new ProtocolError("chat.unknown", `No channel ${request.channel}.`);
      const forward = request.after_id !== undefined && request.before_id === undefined;
      const range = {
        ...(request.after_id === undefined ? {} : { after: request.after_id }),
        ...(request.before_id === undefined ? {} : { before: request.before_id }),
      };
      const read = async (between: { after?: number; before?: number }) => {
        const page = await store.eventsBetween(channel.id, between, request.count, !forward);
        if (forward || page.length >= request.count || request.after_id !== undefined) return page;
        // Short when paging back: older history may still be on the homeserver.
        await backfillOnce(channel, request.count - page.length);
        return store.eventsBetween(channel.id, between, request.count, true);
      };
      let stored = await read(range);
      const results: ChatEvent[] = [];
      for (let round = 1; ; round++) {
        const summaries = await store.reactionSummaries(
          channel.id,
          stored.filter((e) => e.eventType === "channel.message").map((e) => e.seq),
        );
        for (const event of stored) {
          const chatEvent = toChatEvent(channel, event);
          if (!(await hearing.hears(channel, listener, chatEvent))) continue;
          const reactions = summaries.get(event.seq);
          results.push(reactions ? ({ ...chatEvent, reactions } as ChatEvent) : chatEvent);
        }
        // A full page this listener hears none of (someone they ignore, private messages) is not
        // the end: look further, so that an empty answer means there is nothing more to page to.
        if (results.length > 0 || stored.length < request.count || round >= HIDDEN_PAGES_SCANNED) break;
        const edge = forward ? stored.at(-1)?.seq : stored[0]?.seq;
        if (edge === undefined) break;
        const next = forward ? { ...range, after: edge } : { ...range, before: edge };
        stored = await read(next);
      }
      return { results, users: await usersOf(results) };
    },
  };
}
