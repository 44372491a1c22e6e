// The open channel: joins (or, without a name yet, subscribes to read), then wires the timeline,
// the member list, the header, the typing line and the composer to the channel's events, and
// offers moderators the channel's settings and the moderators' channel.
import type {
  Channel,
  ChannelSnapshot,
  ChatEvent,
  Role,
  SettingsView,
} from "../../packages/client/src/index.ts";
import type { Composer } from "./composer.ts";
import { byId, describeError, formatDuration, h } from "./dom.ts";
import { Members } from "./members.ts";
import type { MessageEvent } from "./message-view.ts";
import type { Session } from "./session.ts";
import { showRules, showSettings } from "./settings.ts";
import { Timeline } from "./timeline.ts";

export interface RoomHooks {
  title(name: string): string;
  readPointer(name: string): number;
  read(name: string, eventId: number): void;
  joined(name: string): void;
  left(name: string): void;
  openChannel(channel: Channel): void;
  directMessage(userId: string): void;
}

export class Room {
  readonly channel: Channel;
  readonly #session: Session;
  readonly #composer: Composer;
  readonly #hooks: RoomHooks;
  readonly #stops: Array<() => void> = [];
  #timeline: Timeline | undefined;
  #members: Members | undefined;
  #state: ChannelSnapshot["state"] | undefined;
  #joined = false;
  #typingUsers: string[] = [];
  #closed = false;

  constructor(session: Session, channel: Channel, composer: Composer, hooks: RoomHooks) {
    this.#session = session;
    this.channel = channel;
    this.#composer = composer;
    this.#hooks = hooks;
  }

  get joined(): boolean {
    return this.#joined;
  }

  /** Listens first (nothing pushed while history loads is lost), then joins and loads history. */
  async open(): Promise<void> {
    const channel = this.channel;
    const session = this.#session;
    byId("channel-title").textContent = this.#hooks.title(channel.name);
    delete byId("chat").dataset.channel;
    byId("channel-topic").textContent = "";
    const pending: ChatEvent[] = [];
    this.#stops.push(
      channel.on("event", (event) => {
        if (this.#timeline) this.#timeline.add([event]);
        else pending.push(event);
        if (event.event_type === "channel.member") {
          void this.#members?.refresh().catch(() => undefined);
          if (event.content.user.id === session.me()?.id && event.content.membership !== "join")
            this.#lostMembership(event);
        }
      }),
      channel.on("update", (event) => this.#timeline?.update(event)),
      channel.on("typing", (users) => {
        this.#typingUsers = users.filter((id) => id !== session.me()?.id);
        this.#showTyping();
      }),
      channel.on("presence", (users) => this.#members?.presenceChanged(users)),
      channel.on("moderation", (notice) => this.#moderationNotice(notice)),
      channel.on("settings", (change) => {
        if (this.#state) {
          this.#state = {
            ...this.#state,
            rules: "rules" in change ? ((change.rules as string | null) ?? null) : this.#state.rules,
            settings: (change.settings as SettingsView | undefined) ?? this.#state.settings,
          };
          this.#renderHeader();
        }
      }),
      channel.on("state", (state) => {
        if (this.#state) this.#state = { ...this.#state, topic: state.topic };
        this.#renderHeader();
      }),
      channel.on("unsubscribed", ({ reason }) => {
        this.#timeline?.notice(`You no longer receive this channel: ${reason}`);
        this.#composer.enable(false);
      }),
      channel.on("sendFailed", (failure) =>
        session.fail(`Your message could not be delivered: ${failure.message}`),
      ),
    );
    const named = Boolean(session.me()?.profile.display_name);
    const snapshot = named ? await channel.join() : await channel.subscribe({ presence: true });
    // Joined even if the reader moved on meanwhile: the channel belongs in their list.
    if (named) this.#hooks.joined(channel.name);
    if (named) await channel.subscribe({ presence: true });
    if (this.#closed) return;
    this.#joined = named;
    this.#state = snapshot.state;
    session.people.rememberAll(snapshot.members);
    if (channel.name.startsWith("dm.")) {
      const others = snapshot.members.filter((member) => member.id !== session.me()?.id);
      byId("channel-title").textContent =
        others.map((member) => session.people.name(member.id)).join(", ") || "Notes to yourself";
    }
    this.#members = new Members(session, channel, snapshot.state.role, {
      directMessage: (id) => this.#hooks.directMessage(id),
      mention: (id) => this.#composer.insert(id),
      roleChanged: (role) => this.#roleChanged(role),
    });
    const timeline = new Timeline(
      byId("messages"),
      session,
      {
        reply: (event) => this.#composer.replyTo(event),
        edit: (event) => this.#composer.edit(event),
        remove: (event) => this.#remove(event),
        react: (event, key, remove) => {
          channel.react(event.event_id, key, remove).catch((error: unknown) => session.fail(error));
        },
        moderate: (id) => this.#members?.open(id),
        markMedia: (event, nsfw) => {
          channel.markMedia(event.event_id, nsfw).catch((error: unknown) => session.fail(error));
        },
        canModerate: () => this.#members?.canModerate ?? false,
        read: (id) => this.#hooks.read(channel.name, id),
        fetchOlder: async (beforeId) => {
          const page = await channel.fetch({ count: 50, before_id: beforeId });
          session.people.rememberAll(Object.values(page.users));
          return page;
        },
      },
      this.#hooks.readPointer(channel.name),
    );
    this.#timeline = timeline;
    timeline.add(pending);
    await timeline.start(snapshot.next_event_id);
    if (this.#closed) return;
    this.#renderHeader();
    this.#composer.attach({
      channel,
      lastOwnText: () => timeline.lastOwnText,
      needsRules: (retry) => this.#askRules(retry),
      mentionable: (prefix) => this.#members?.matching(prefix) ?? [],
    });
    await this.#members.refresh().catch(() => undefined);
    if (this.#closed) return;
    if (!session.embed) this.#composer.focus();
    // For tests and embedding pages: the channel is shown and live.
    byId("chat").dataset.channel = channel.name;
  }

  /** After a name is set: from reading to taking part. */
  async joinNow(): Promise<void> {
    if (this.#joined) return;
    await this.channel.join();
    this.#joined = true;
    this.#hooks.joined(this.channel.name);
    void this.#members?.refresh();
  }

  async leave(): Promise<void> {
    await this.channel.leave();
    this.#joined = false;
    this.#hooks.left(this.channel.name);
  }

  /** After a reconnection: members and presence may have changed while we were away. */
  reconnected(): void {
    void this.#members?.refresh().catch(() => undefined);
    this.channel.fetch({ count: 50 }).then(
      (page) => this.#timeline?.resync(page.results),
      () => undefined,
    );
  }

  checkRead(): void {
    this.#timeline?.checkRead();
  }

  /** Names or pictures changed: messages and members are drawn again. */
  redraw(): void {
    this.#timeline?.redrawAll();
    this.#members?.render();
  }

  close(): void {
    this.#closed = true;
    for (const stop of this.#stops) stop();
    this.#timeline?.close();
    this.#members?.close();
    // A channel only read, not joined, is not kept subscribed once it is left on screen.
    if (!this.#joined) this.channel.unsubscribe().catch(() => undefined);
    this.#composer.attach(undefined);
    // Nothing of this channel may stay clickable while the next one loads (or fails to).
    for (const id of ["typing", "channel-facts", "channel-topic"]) byId(id).textContent = "";
    byId("channel-tools").replaceChildren();
    byId("members").replaceChildren();
  }

  #remove(event: MessageEvent): void {
    if (!confirm("Delete this message?")) return;
    this.channel.delete(event.event_id).catch((error: unknown) => this.#session.fail(error));
  }

  #roleChanged(_role: Role): void {
    this.#renderHeader();
    this.#timeline?.redrawAll();
  }

  #lostMembership(event: ChatEvent): void {
    if (event.event_type !== "channel.member") return;
    this.#joined = false;
    this.#hooks.left(this.channel.name);
    if (event.content.by && event.content.by !== this.#session.me()?.id) this.#composer.enable(false);
  }

  #askRules(retry: () => void): void {
    showRules(this.#state?.rules ?? "", true, () => {
      this.channel.acceptRules().then(retry, (error: unknown) => this.#session.fail(error));
    });
  }

  #showTyping(): void {
    const names = this.#typingUsers.map((id) => this.#session.people.name(id));
    byId("typing").textContent =
      names.length === 0
        ? ""
        : names.length === 1
          ? `${names[0]} is typing…`
          : names.length <= 3
            ? `${names.join(", ")} are typing…`
            : "Several people are typing…";
  }

  #moderationNotice(notice: Record<string, unknown>): void {
    const people = this.#session.people;
    const user = people.name(typeof notice.user === "string" ? notice.user : undefined);
    const by = typeof notice.by === "string" ? ` by ${people.name(notice.by)}` : "";
    const until = typeof notice.until === "number" ? notice.until : null;
    const text =
      notice.action === "timeout"
        ? until
          ? `${user} was timed out for ${formatDuration(Math.round((until - Date.now()) / 1000))}${by}`
          : `${user} was timed out until lifted${by}`
        : notice.action === "untimeout"
          ? `${user}'s timeout ended`
          : `${user}: ${String(notice.action)}${by}`;
    this.#timeline?.notice(text);
    void this.#members?.refresh().catch(() => undefined);
  }

  #renderHeader(): void {
    const state = this.#state;
    if (!state || this.#closed) return;
    const moderator = this.#members?.canModerate ?? state.role !== "user";
    byId("channel-topic").textContent = state.topic ?? "";
    const facts: string[] = [];
    if (state.settings.live) facts.push("Live");
    if (state.settings.slow_mode > 0) facts.push(`Slow mode ${formatDuration(state.settings.slow_mode)}`);
    byId("channel-facts").textContent = facts.join(" · ");
    const tools = byId<HTMLDivElement>("channel-tools");
    const button = (label: string, onclick: () => void) => h("button", { type: "button", onclick }, label);
    tools.replaceChildren(
      ...[
        state.rules ? button("Rules", () => showRules(state.rules ?? "", false, () => undefined)) : null,
        moderator
          ? button("Settings", () =>
              showSettings(state, (changes) =>
                this.channel.settings(changes).then((result) => {
                  this.#state = {
                    ...state,
                    rules: changes.rules === undefined ? state.rules : changes.rules,
                    settings: result.settings as unknown as SettingsView,
                  };
                  this.#renderHeader();
                }),
              ),
            )
          : null,
        moderator &&
        !this.channel.name.startsWith("dm.") &&
        !this.channel.name.endsWith(".mods") &&
        !this.channel.name.startsWith("mods.")
          ? button("Moderators' channel", () => {
              this.channel.moderatorsChannel().then(
                (mods) => this.#hooks.openChannel(mods),
                (error: unknown) => this.#session.fail(describeError(error)),
              );
            })
          : null,
        this.#joined
          ? button("Leave", () => void this.leave().catch((error: unknown) => this.#session.fail(error)))
          : null,
      ].filter((node): node is HTMLButtonElement => node !== null),
    );
  }
}
