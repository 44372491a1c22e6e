// One channel as the application sees it: its events exactly once and in order (recovered after
// reconnects), reactions, typing and moderation notices, and its actions.
import type { ParleyClient } from "./client.ts";
import { Emitter } from "./emitter.ts";
import type {
  ChannelSettingsChange,
  ChannelSnapshot,
  ChatEvent,
  FetchResult,
  MediaPage,
  MemberList,
  MessageContent,
  ReactionChange,
  Role,
} from "./types.ts";

export interface ChannelEvents extends Record<string, unknown> {
  /** Every logged event (messages, member changes, reaction changes), once, in event_id order. */
  event: ChatEvent;
  message: ChatEvent;
  member: ChatEvent;
  reaction: ReactionChange;
  /**
   * A message changed in place (a moderator marked its media): the message as it now is, at its
   * own event_id, with `nsfw` or without it. A message held for review that you did not get
   * arrives this way once approved: insert it where its event_id belongs.
   */
  update: ChatEvent;
  typing: string[];
  moderation: Record<string, unknown>;
  settings: Record<string, unknown>;
  /** Members' presence changed: `{id: status}` of those who changed (subscribed with presence). */
  presence: Record<string, string>;
  /** The room's topic, name or avatar changed: all three as they are now, and who changed them. */
  state: { topic: string | null; room_name: string | null; avatar_url: string | null; by: string };
  /** The server ended this subscription (a join policy changed). */
  unsubscribed: { reason: string };
  /**
   * Something you did here, already acknowledged, was refused by the homeserver for good and
   * withdrawn (its undo arrives as an event too): tell the user.
   */
  sendFailed: { event_id: number; code: string; message: string };
}

export interface SendOptions {
  readonly reply_to?: number;
  readonly replaces?: number;
  /** Defaults to a fresh id, so the client can safely resend after a reconnect. */
  readonly txn_id?: string;
  /** Only these users (and moderators) receive it; it is not posted to Matrix. */
  readonly to?: readonly string[];
}

const randomId = () =>
  typeof crypto !== "undefined" && "randomUUID" in crypto
    ? crypto.randomUUID()
    : `${Date.now()}-${Math.random()}`;

export class Channel extends Emitter<ChannelEvents> {
  readonly name: string;
  readonly #client: ParleyClient;

  constructor(client: ParleyClient, name: string) {
    super();
    this.#client = client;
    this.name = name;
  }

  /** Called by the client with events ready for delivery. */
  deliver(events: readonly ChatEvent[]): void {
    for (const event of events) {
      this.emit("event", event);
      if (event.event_type === "channel.message") this.emit("message", event);
      else if (event.event_type === "channel.member") this.emit("member", event);
      else if (event.event_type === "channel.reaction") {
        const content = event.content as { event: number; reactions: ReactionChange["reactions"] };
        this.emit("reaction", {
          channel: this.name,
          event: content.event,
          reactions: content.reactions,
          event_id: event.event_id,
          ...(event.sender ? { sender: event.sender } : {}),
        });
      }
    }
  }

  notify<
    K extends
      | "typing"
      | "moderation"
      | "settings"
      | "state"
      | "presence"
      | "unsubscribed"
      | "sendFailed"
      | "update",
  >(kind: K, value: ChannelEvents[K]): void {
    this.emit(kind, value);
  }

  join(): Promise<ChannelSnapshot> {
    return this.#client.track(this.name, "join");
  }

  /** `presence: true` also takes `chat.presence` pushes (the channel's `presence` event). */
  subscribe(options: { presence?: boolean } = {}): Promise<ChannelSnapshot> {
    return this.#client.track(this.name, "subscribe", options);
  }

  async leave(): Promise<void> {
    await this.#client.request("chat.leave", { channel: this.name });
    this.#client.stopRejoining(this.name);
  }

  async unsubscribe(): Promise<void> {
    await this.#client.request("chat.unsubscribe", { channel: this.name });
    this.#client.untrack(this.name);
  }

  async send(content: MessageContent, options: SendOptions = {}): Promise<ChatEvent> {
    const result = await this.#client.request<{ event: ChatEvent }>("chat.send", {
      channel: this.name,
      event_type: "channel.message",
      content,
      txn_id: options.txn_id ?? randomId(),
      ...(options.reply_to === undefined ? {} : { reply_to: options.reply_to }),
      ...(options.replaces === undefined ? {} : { replaces: options.replaces }),
      ...(options.to === undefined ? {} : { to: options.to }),
    });
    return result.event;
  }

  sendText(body: string, options: SendOptions = {}): Promise<ChatEvent> {
    return this.send({ type: "text", body }, options);
  }

  edit(eventId: number, body: string): Promise<ChatEvent> {
    return this.send({ type: "text", body }, { replaces: eventId });
  }

  delete(eventId: number): Promise<ChatEvent> {
    return this.send({ type: "deleted" }, { replaces: eventId });
  }

  fetch(options: { count?: number; before_id?: number; after_id?: number } = {}): Promise<FetchResult> {
    return this.#client.request("chat.fetch", { channel: this.name, ...options });
  }

  async markRead(eventId: number): Promise<void> {
    await this.#client.request("chat.mark_read", { channel: this.name, id: eventId });
  }

  members(): Promise<MemberList> {
    return this.#client.request("chat.members", { channel: this.name });
  }

  async react(eventId: number, reaction: string, remove = false): Promise<void> {
    await this.#client.request("chat.react", {
      channel: this.name,
      event: eventId,
      reaction,
      ...(remove ? { delete: true } : {}),
    });
  }

  async typing(typing: boolean): Promise<void> {
    await this.#client.request("chat.typing", { channel: this.name, typing });
  }

  media(options: { before_id?: number; count?: number } = {}): Promise<MediaPage> {
    return this.#client.request("chat.media", { channel: this.name, ...options });
  }

  /**
   * Moderators: marks a message's files NSFW (or clears the mark), approving it if it was held
   * for media review; returns the message as it now is.
   */
  async markMedia(eventId: number, nsfw: boolean): Promise<ChatEvent> {
    return (
      await this.#client.request<{ event: ChatEvent }>("chat.media.mark", {
        channel: this.name,
        event: eventId,
        nsfw,
      })
    ).event;
  }

  // --- incoming webhooks (owners and moderators) ---

  /** A new incoming webhook; its `url` (with the secret) is returned only here. */
  createWebhook(name: string, avatarUrl?: string): Promise<{ id: string; name: string; url: string }> {
    return this.#client.request("chat.webhook.create", {
      channel: this.name,
      name,
      ...(avatarUrl ? { avatar_url: avatarUrl } : {}),
    });
  }

  async webhooks(): Promise<Array<{ id: string; name: string; created_by: string; created_at: number }>> {
    return (
      await this.#client.request<{
        results: Array<{ id: string; name: string; created_by: string; created_at: number }>;
      }>("chat.webhook.list", { channel: this.name })
    ).results;
  }

  /** Its URL stops working at once. */
  async deleteWebhook(id: string): Promise<void> {
    await this.#client.request("chat.webhook.delete", { channel: this.name, id });
  }

  // --- moderation (see the protocol reference's Moderation section) ---

  async kick(user: string, reason?: string): Promise<void> {
    await this.#client.request("chat.kick", { channel: this.name, user, ...(reason ? { reason } : {}) });
  }

  async ban(user: string, reason?: string): Promise<void> {
    await this.#client.request("chat.ban", { channel: this.name, user, ...(reason ? { reason } : {}) });
  }

  async unban(user: string): Promise<void> {
    await this.#client.request("chat.unban", { channel: this.name, user });
  }

  /** Without `seconds`, the timeout lasts until a moderator lifts it (`until` is then null). */
  timeout(user: string, seconds?: number, reason?: string): Promise<{ until: number | null; karma: number }> {
    return this.#client.request("chat.timeout", {
      channel: this.name,
      user,
      ...(seconds === undefined ? {} : { duration: seconds }),
      ...(reason ? { reason } : {}),
    });
  }

  async untimeout(user: string): Promise<void> {
    await this.#client.request("chat.untimeout", { channel: this.name, user });
  }

  setRole(user: string, role: Role): Promise<{ channels: string[] }> {
    return this.#client.request("chat.set_role", { channel: this.name, user, role });
  }

  settings(changes: ChannelSettingsChange): Promise<{ settings: Record<string, unknown> }> {
    return this.#client.request("chat.settings", { channel: this.name, ...changes });
  }

  async acceptRules(): Promise<void> {
    await this.#client.request("chat.accept_rules", { channel: this.name });
  }

  async setAudience(user: string, audience: "vip" | "quiet" | null): Promise<void> {
    await this.#client.request("chat.set_audience", { channel: this.name, user, audience });
  }

  /** Opens (creating it the first time) the private channel of this channel's moderators. */
  async moderatorsChannel(): Promise<Channel> {
    const opened = await this.#client.request<ChannelSnapshot & { id: string }>("chat.mod_channel", {
      channel: this.name,
    });
    this.#client.adopt(opened.id, "join", opened);
    return this.#client.channel(opened.id);
  }
}
