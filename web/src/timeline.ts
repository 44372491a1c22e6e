// The messages of the open channel: each event once, in event_id order whether it came live, from
// history or after a reconnect; edits, deletes, reactions and review marks applied in place;
// older history loaded as you scroll up; the "new messages" marker at the read pointer; and what
// you have read reported as you read it.
import type { ChatEvent, Reactions } from "../../packages/client/src/index.ts";
import { byId, h } from "./dom.ts";
import { type MessageActions, type MessageEvent, renderMessage } from "./message-view.ts";
import type { Session } from "./session.ts";

/** Pages of history loaded at most to reach the reader's read pointer when a channel opens. */
const MAX_PAGES_TO_MARKER = 10;
/** Messages by one sender closer together than this are drawn as one group. */
const GROUP_MS = 5 * 60 * 1000;

/** The event_id a list item shows, if it shows one (ids from Matrix backfill can be 0 or below). */
const idOf = (element: Element | null): number | undefined => {
  const raw = (element as HTMLElement | null)?.dataset.eventId;
  return raw === undefined ? undefined : Number(raw);
};

/** For a notice without an event of its own: the newest event_id shown when it came. */
const afterOf = (element: Element): number | undefined => {
  const raw = (element as HTMLElement).dataset.after;
  return raw === undefined ? undefined : Number(raw);
};

type ChangeEvent = Exclude<ChatEvent, MessageEvent>;

export interface TimelineHooks extends Omit<MessageActions, "original" | "jumpTo"> {
  /** The newest message the reader has now seen. */
  read(eventId: number): void;
  fetchOlder(beforeId: number): Promise<{ results: ChatEvent[] }>;
}

export class Timeline {
  readonly #list: HTMLOListElement;
  /** "Jump to newest", shown while the reader is up in history and something new came. */
  readonly #jump = byId<HTMLButtonElement>("jump");
  readonly #session: Session;
  readonly #hooks: TimelineHooks;
  readonly #messages = new Map<number, MessageEvent>();
  readonly #seen = new Set<number>();
  /**
   * Live edits, deletes and reactions of messages not loaded yet, by the message's id: applied
   * when history brings the message (it may predate them). History's own such events are not:
   * fetched messages already show their current state.
   */
  readonly #waiting = new Map<number, ChatEvent[]>();
  #oldestFetched = Number.POSITIVE_INFINITY;
  #noMoreHistory = false;
  #loadingOlder: Promise<void> | undefined;
  #readPointer: number;
  /** History is shown and placed: reading may be reported, live events may scroll. */
  #started = false;
  /** The reader is at the newest line (and should stay there as things grow). */
  #pinned = true;
  /** Where the reader stopped last time: the marker stays there while they read on. */
  readonly #markerAfter: number;
  #markerPlaced = false;
  #closed = false;

  constructor(list: HTMLOListElement, session: Session, hooks: TimelineHooks, readPointer: number) {
    this.#list = list;
    this.#session = session;
    this.#hooks = hooks;
    this.#readPointer = readPointer;
    this.#markerAfter = readPointer;
    list.replaceChildren();
    list.setAttribute("aria-busy", "true");
    this.#jump.hidden = true;
    this.#jump.onclick = () => {
      this.scrollToEnd();
      this.checkRead();
    };
    list.onscroll = () => {
      this.#pinned = this.#atEnd();
      if (this.#pinned) this.#jump.hidden = true;
      if (list.scrollTop < 150) void this.loadOlder();
      this.checkRead();
    };
    // Images take their height when they load: a reader at the newest line stays there.
    list.addEventListener("load", this.#onMediaLoad, true);
  }

  readonly #onMediaLoad = () => {
    if (this.#pinned && this.#started) this.scrollToEnd();
  };

  close(): void {
    this.#closed = true;
    this.#list.onscroll = null;
    this.#jump.hidden = true;
    this.#jump.onclick = null;
    this.#list.removeEventListener("load", this.#onMediaLoad, true);
  }

  get lastOwnText(): MessageEvent | undefined {
    const me = this.#session.me()?.id;
    let found: MessageEvent | undefined;
    for (const message of this.#messages.values()) {
      if (message.sender !== me || message.content.type === "deleted" || message.content.type === "files")
        continue;
      if (!found || message.event_id > found.event_id) found = message;
    }
    return found;
  }

  /** The first page of history, older than anything pushed since we subscribed. */
  async start(nextEventId: number): Promise<void> {
    const history = await this.#hooks.fetchOlder(nextEventId);
    if (this.#closed) return;
    this.#noteFetched(history.results, nextEventId);
    this.#addAll(history.results, true);
    // Back to where the reader stopped (within reason), so the marker has its place.
    for (let pages = 1; pages < MAX_PAGES_TO_MARKER && this.#markerAfter > 0; pages++) {
      if (this.#noMoreHistory || this.#oldestFetched <= this.#markerAfter + 1) break;
      const older = await this.#hooks.fetchOlder(this.#oldestFetched);
      if (this.#closed) return;
      this.#noteFetched(older.results, this.#oldestFetched);
      this.#addAll(older.results, true);
    }
    const marker = this.#placeMarker();
    this.#list.removeAttribute("aria-busy");
    // Where the reader stopped, if they did; else the newest. Only then is anything read.
    // Scrolled in the list itself: scrollIntoView would also move a page that frames this one.
    if (marker) this.#list.scrollTop = marker.offsetTop;
    else this.scrollToEnd();
    this.#pinned = this.#atEnd();
    this.#started = true;
    this.checkRead();
    this.#fillView();
  }

  /** While the view cannot scroll there is no scrolling up to ask for more: ask now. */
  #fillView(pages = 0): void {
    const list = this.#list;
    if (pages >= MAX_PAGES_TO_MARKER || list.clientHeight === 0) return; // a hidden frame: nothing to fill
    if (!this.#noMoreHistory && !this.#closed && list.scrollHeight <= list.clientHeight + 150) {
      void this.loadOlder().then(() => this.#fillView(pages + 1));
    }
  }

  /** Live events, in any order and any number of times: each counts once. */
  add(events: readonly ChatEvent[]): void {
    if (this.#closed) return;
    const atEnd = this.#atEnd();
    this.#addAll(events, false);
    if (atEnd && this.#started) this.scrollToEnd();
    else if (
      this.#started &&
      events.some((event) => event.event_type === "channel.message" && event.replaces === undefined)
    )
      this.#jump.hidden = false;
    this.checkRead();
  }

  #addAll(events: readonly ChatEvent[], fromHistory: boolean): void {
    for (const event of [...events].sort((a, b) => a.event_id - b.event_id)) {
      if (this.#seen.has(event.event_id)) continue;
      this.#seen.add(event.event_id);
      this.#apply(event, fromHistory);
    }
  }

  /** A message as it now is (a review mark): redrawn, or shown now that it may be. */
  update(event: ChatEvent): void {
    if (event.event_type !== "channel.message" || this.#closed) return;
    const known = this.#messages.get(event.event_id);
    // Older than anything loaded: it shows in its place when history gets there.
    if (!known && event.event_id < this.#oldestFetched) return;
    this.#seen.add(event.event_id);
    // An update says what changed (its review marks); it does not carry the reactions.
    this.#messages.set(
      event.event_id,
      known?.reactions && !event.reactions ? { ...event, reactions: known.reactions } : event,
    );
    this.#redraw(event.event_id, true);
    if (!known) this.#applyWaiting(event.event_id);
  }

  /**
   * After a reconnect: the newest messages as fetched now. Messages changed in place meanwhile
   * (review marks, approvals) are not in the recovered gap, which has only new events.
   */
  resync(results: readonly ChatEvent[]): void {
    if (this.#closed) return;
    for (const event of results) {
      if (event.event_type !== "channel.message" || event.replaces !== undefined) continue;
      const known = this.#messages.get(event.event_id);
      const changed = known
        ? known.nsfw !== event.nsfw || known.pending_review !== event.pending_review
        : event.event_id > this.#oldestFetched && !this.#seen.has(event.event_id);
      if (changed) this.update(event);
    }
  }

  notice(text: string): void {
    const atEnd = this.#atEnd();
    // It happened after the newest event shown: later ones go below it.
    const after = Math.max(-Infinity, ...[...this.#seen]);
    this.#list.append(
      h("li", { class: "notice", "data-after": Number.isFinite(after) ? after : undefined }, text),
    );
    if (atEnd) this.scrollToEnd();
  }

  /** Redraws every message (our role changed, or names became known). */
  redrawAll(): void {
    for (const id of this.#messages.keys()) this.#redraw(id, false);
  }

  original(eventId: number): MessageEvent | undefined {
    return this.#messages.get(eventId);
  }

  jumpTo(eventId: number): void {
    const item = this.#item(eventId);
    if (!item) return;
    this.#list.scrollTop = item.offsetTop - this.#list.clientHeight / 2;
    item.focus();
    item.classList.add("flash");
    setTimeout(() => item.classList.remove("flash"), 1500);
  }

  scrollToEnd(): void {
    this.#list.scrollTop = this.#list.scrollHeight;
    this.#pinned = true;
    this.#jump.hidden = true;
  }

  async loadOlder(): Promise<void> {
    if (this.#noMoreHistory || this.#closed || !Number.isFinite(this.#oldestFetched)) return;
    this.#loadingOlder ??= (async () => {
      try {
        const before = this.#oldestFetched;
        const page = await this.#hooks.fetchOlder(before);
        if (this.#closed) return;
        this.#noteFetched(page.results, before);
        const height = this.#list.scrollHeight;
        const top = this.#list.scrollTop;
        this.#addAll(page.results, true);
        // Keep what the reader looks at in place.
        this.#list.scrollTop = top + (this.#list.scrollHeight - height);
      } finally {
        this.#loadingOlder = undefined;
      }
    })();
    return this.#loadingOlder;
  }

  /** Reports the newest message fully in view, when the page is visible. */
  checkRead(): void {
    if (this.#closed || !this.#started || document.visibilityState !== "visible") return;
    const bottom = this.#list.getBoundingClientRect().bottom;
    let newest: number | undefined;
    for (let item = this.#list.lastElementChild; item; item = item.previousElementSibling) {
      const id = idOf(item);
      if (id === undefined) continue;
      if (item.getBoundingClientRect().bottom <= bottom + 1) {
        newest = id;
        break;
      }
    }
    if (newest !== undefined && newest > this.#readPointer) {
      this.#readPointer = newest;
      this.#hooks.read(newest);
    }
  }

  #noteFetched(results: readonly ChatEvent[], before: number): void {
    const oldest = results.reduce((min, event) => Math.min(min, event.event_id), before);
    // Only an empty page is the start: the server leaves out what this reader may not see, so a
    // page can be short with more before it.
    if (results.length === 0) this.#noMoreHistory = true;
    this.#oldestFetched = Math.min(this.#oldestFetched, oldest);
    if (this.#noMoreHistory && !this.#list.querySelector(".start")) {
      this.#list.prepend(h("li", { class: "notice start" }, "This is the beginning of the channel."));
    }
  }

  #apply(event: ChatEvent, fromHistory: boolean): void {
    if (
      event.event_type === "channel.reaction" ||
      (event.event_type === "channel.message" && event.replaces !== undefined)
    ) {
      if (fromHistory) return; // the fetched message already shows it
      const targetId =
        event.event_type === "channel.reaction" ? event.content.event : (event.replaces as number);
      if (!this.#messages.has(targetId)) {
        this.#waiting.set(targetId, [...(this.#waiting.get(targetId) ?? []), event]);
        return;
      }
      this.#change(event as ChangeEvent | MessageEvent);
      return;
    }
    if (event.event_type === "channel.member") {
      const content = event.content;
      this.#session.people.remember(content.user);
      const name = this.#session.people.name(content.user.id);
      const by =
        content.by && content.by !== content.user.id ? ` by ${this.#session.people.name(content.by)}` : "";
      const reason = content.reason ? `: ${content.reason}` : "";
      const text =
        content.membership === "join"
          ? `${name} joined`
          : content.membership === "ban"
            ? `${name} was banned${by}${reason}`
            : by
              ? `${name} was removed${by}${reason}`
              : `${name} left`;
      this.#insert(event.event_id, h("li", { class: "notice", "data-event-id": event.event_id }, text));
      return;
    }
    this.#messages.set(event.event_id, event);
    this.#redraw(event.event_id, true);
    this.#applyWaiting(event.event_id);
  }

  #applyWaiting(eventId: number): void {
    const waiting = this.#waiting.get(eventId);
    if (!waiting) return;
    this.#waiting.delete(eventId);
    for (const change of waiting) this.#change(change as ChangeEvent | MessageEvent);
  }

  /** An edit, delete or reaction applied to its loaded message, which is redrawn in place. */
  #change(event: ChangeEvent | MessageEvent): void {
    if (event.event_type === "channel.reaction") {
      const target = this.#messages.get(event.content.event);
      if (!target) return;
      this.#messages.set(target.event_id, { ...target, reactions: event.content.reactions as Reactions });
      this.#redraw(target.event_id, false);
      return;
    }
    if (event.event_type !== "channel.message" || event.replaces === undefined) return;
    const original = this.#messages.get(event.replaces);
    if (!original) return;
    this.#messages.set(original.event_id, {
      ...original,
      content: event.content,
      ...(event.content.type === "deleted" ? {} : { edited: true as const }),
    });
    this.#redraw(original.event_id, false);
  }

  #actions(): MessageActions {
    return {
      ...this.#hooks,
      original: (id) => this.#messages.get(id),
      jumpTo: (id) => this.jumpTo(id),
    };
  }

  #redraw(eventId: number, insertIfMissing: boolean): void {
    const event = this.#messages.get(eventId);
    if (!event) return;
    const fresh = renderMessage(event, this.#session, this.#actions());
    const existing = this.#item(eventId);
    if (existing) {
      fresh.className =
        `${fresh.className} ${existing.classList.contains("continued") ? "continued" : ""}`.trim();
      const hadFocus = existing.contains(document.activeElement);
      existing.replaceWith(fresh);
      if (hadFocus) fresh.focus();
    } else if (insertIfMissing) this.#insert(eventId, fresh);
    this.#group(fresh);
    const next = fresh.nextElementSibling;
    if (next) this.#group(next as HTMLElement);
    // Replies quoting this message show its new text.
    for (const reply of this.#messages.values()) {
      if (reply.reply_to === eventId && reply.event_id !== eventId && this.#item(reply.event_id)) {
        const item = this.#item(reply.event_id);
        const quote = item?.querySelector(".quote");
        const redrawn = renderMessage(reply, this.#session, this.#actions());
        const newQuote = redrawn.querySelector(".quote");
        if (quote && newQuote) quote.replaceWith(newQuote);
      }
    }
  }

  #item(eventId: number): HTMLElement | null {
    return this.#list.querySelector<HTMLElement>(`li[data-event-id="${eventId}"]`);
  }

  /** Puts an item where its event_id belongs (almost always at the end). */
  #insert(eventId: number, item: HTMLElement): void {
    let after: Element | null = this.#list.lastElementChild;
    while (after) {
      const id = idOf(after) ?? afterOf(after);
      if (id !== undefined && id < eventId) break;
      if (after.classList.contains("start")) break;
      after = after.previousElementSibling;
    }
    if (after) after.after(item);
    else this.#list.prepend(item);
  }

  /** Drawn as part of the previous message's group: same sender, close in time, not a reply. */
  #group(item: HTMLElement): void {
    if (!item.classList.contains("message")) return;
    const previous = item.previousElementSibling as HTMLElement | null;
    const continued =
      previous?.classList.contains("message") === true &&
      previous.dataset.sender === item.dataset.sender &&
      Number(item.dataset.ts) - Number(previous.dataset.ts) < GROUP_MS &&
      !item.querySelector(".quote");
    item.classList.toggle("continued", continued);
  }

  #placeMarker(): HTMLElement | undefined {
    if (this.#markerPlaced) return undefined;
    this.#markerPlaced = true;
    // Someone who never read here has no place to come back to: everything is new.
    if (this.#markerAfter === 0) return undefined;
    const me = this.#session.me()?.id;
    for (const [id, message] of [...this.#messages].sort((a, b) => a[0] - b[0])) {
      if (id > this.#markerAfter && message.sender !== me) {
        const marker = h(
          "li",
          { class: "marker", role: "separator", "aria-label": "New messages" },
          "New messages",
        );
        this.#item(id)?.before(marker);
        return marker;
      }
    }
    return undefined;
  }

  #atEnd(): boolean {
    const list = this.#list;
    return list.scrollHeight - list.scrollTop - list.clientHeight < 60;
  }
}
