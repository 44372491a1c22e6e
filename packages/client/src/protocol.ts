// GENERATED from src/protocol/wire.ts by scripts/sync-protocol.ts (npm run build): do not edit here.
// The wire contract in one place, for the server and the client SDK alike: error codes, close
// codes (with whether a client should reconnect), and the shapes of users, events and results.
// Dependency-free on purpose: `npm run build` copies it into packages/client/src/protocol.ts
// (scripts/sync-protocol.ts), and test/unit/protocol-sync.test.ts fails when the copy drifts.
// Ids are type parameters: the server instantiates them with its branded ids, clients with plain
// strings and numbers.

/** The closed table of error codes a client can receive. Codes are stable; messages are for humans. */
export const ERROR_CODES = {
  "protocol.bad_frame": "The frame could not be read: not JSON, not an array, or the wrong arity or types.",
  "protocol.unknown_command": "No such action.",
  "protocol.invalid_payload": "The payload failed validation; `fields` names the failing fields.",
  "protocol.unauthenticated": "Only `authenticate` and `ping` are accepted before authentication.",
  "auth.missing_id_or_token": "`authenticate` needs a `token` or, where guests are allowed, a `client_id`.",
  "auth.invalid_token": "The token is malformed, has a bad signature, or lacks a valid `sub` or `exp`.",
  "auth.expired_token": "The token's `exp` is in the past.",
  "auth.denied": "This kind of login is not allowed here (for example guests are off).",
  "auth.already_authenticated": "The connection is already authenticated; open a new one to change user.",
  "channel.join.missing_profile": "The user has no display name yet; set one with `user.update` first.",
  "chat.denied": "The user lacks the right to do this, e.g. sending to a channel they have not joined.",
  "channel.banned": "The user is banned from this channel.",
  "channel.timed_out": "The user is timed out in this channel until `until` (ms since the epoch).",
  "channel.slow_mode": "Slow mode: retry after `retry_after` milliseconds.",
  "channel.rules_not_accepted": "The channel's rules must be accepted (chat.accept_rules) before posting.",
  "chat.unknown": "No such channel.",
  "chat.empty": "The message body is empty.",
  "chat.unknown_event": "No such message in this channel (for replies, edits, deletes and reactions).",
  "chat.unsupported_event_type": "Only `channel.message` events can be sent.",
  "chat.unsupported_content_type":
    "This content type is not supported: use text, emote, notice, files or deleted.",
  "user.not_found": "No such user.",
  "user.do_not_disturb": "The user does not want to be disturbed: no new direct channel with them for now.",
  "media.too_large": "The upload is larger than the configured limit (HTTP 413).",
  "media.unsupported_type": "This file type is not allowed here (HTTP 415).",
  "media.bad_request": "The upload request is malformed, e.g. without a body or filename (HTTP 400).",
  "media.not_found": "No such media (HTTP 404).",
  "http.bad_request": "The HTTP request cannot be read (a malformed target or body) (HTTP 400).",
  "http.not_found": "No such HTTP endpoint (HTTP 404).",
  "http.forbidden_origin": "WebSockets from this web page's origin are not allowed here (HTTP 403).",
  "http.method_not_allowed": "This HTTP endpoint does not take that method (HTTP 405).",
  "http.payload_too_large": "The HTTP request's body is larger than the endpoint takes (HTTP 413).",
  "api.unauthorized": "The server API needs `Authorization: Bearer <api key>` with a live key (HTTP 401).",
  "api.forbidden": "The API key's scope does not allow this operation (HTTP 403).",
  rate_limited: "Too many requests; retry after `retry_after` milliseconds (HTTP 429 with Retry-After).",
  "upstream.unavailable":
    "The homeserver could not be reached for something that needs it at once; nothing was done. Retry later.",
  "server.fatal": "An unexpected server error; it was logged. Nothing more is disclosed.",
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Login failures that trying again with the same credentials cannot fix. */
export const FATAL_AUTH_CODES: readonly ErrorCode[] = [
  "auth.invalid_token",
  "auth.expired_token",
  "auth.denied",
  "auth.missing_id_or_token",
];

/**
 * WebSocket close codes Parley sends. 1xxx are the standard ones, 4xxx its own. `reconnect` says
 * whether a client should connect again (with backoff) after it.
 */
export const CLOSE_CODES = {
  goingAway: { code: 1001, reason: "server shutting down", reconnect: true },
  messageTooBig: { code: 1009, reason: "message too big", reconnect: true },
  internalError: { code: 1011, reason: "internal error", reconnect: true },
  authTimeout: { code: 4001, reason: "no authenticate frame in time", reconnect: true },
  banned: { code: 4003, reason: "banned from this platform", reconnect: false },
  slowConsumer: { code: 4008, reason: "send buffer full: the client is not reading", reconnect: true },
  replaced: {
    code: 4009,
    reason: "replaced: the user opened more connections than allowed; this, the oldest, made way",
    reconnect: false,
  },
} as const satisfies Record<string, { code: number; reason: string; reconnect: boolean }>;

export type CloseCodeName = keyof typeof CLOSE_CODES;

/** Whether a client should reconnect after a close with this code (unknown codes: yes). */
export function reconnectsAfter(code: number): boolean {
  return !Object.values(CLOSE_CODES).some((entry) => entry.code === code && !entry.reconnect);
}

/** The id types a side of the wire uses. */
export interface Ids {
  readonly user: string;
  readonly channel: string;
  readonly seq: number;
}

export interface Profile {
  readonly display_name: string | null;
  readonly avatar_url: string | null;
}

export interface UserView<I extends Ids = Ids> {
  readonly id: I["user"];
  readonly profile: Profile;
}

export type MembershipKind = "join" | "leave" | "ban";

export type Role = "owner" | "moderator" | "user";

export interface FileRef {
  /** An HTTP(S) URL a client can load; Parley's own media URLs map to the homeserver's media. */
  readonly url: string;
  readonly name: string;
  readonly mimeType: string;
  /** Bytes, when known: files uploaded through Parley, and files from Matrix that say. */
  readonly size?: number;
  /** An image's pixel width and height, when known. */
  readonly w?: number;
  readonly h?: number;
  /** A smaller copy of a large image to show first (loadable like `url`). */
  readonly thumbnail_url?: string;
}

export type TextualType = "text" | "emote" | "notice";

export type MessageContent =
  | { readonly type: TextualType; readonly body: string }
  | { readonly type: "files"; readonly files: readonly FileRef[]; readonly body?: string }
  | { readonly type: "deleted" };

/** Who reacted with what: reaction key -> user ids, in the order they reacted. */
export type Reactions<I extends Ids = Ids> = Readonly<Record<string, readonly I["user"][]>>;

export interface ReactionContent<I extends Ids = Ids> {
  /** The event_id of the message reacted to. */
  readonly event: I["seq"];
  readonly reactions: Reactions<I>;
}

export interface MemberContent<I extends Ids = Ids> {
  readonly membership: MembershipKind;
  readonly user: UserView<I>;
  readonly reason?: string;
  readonly by?: I["user"];
}

interface EventBase<I extends Ids> {
  readonly channel: I["channel"];
  readonly sender?: I["user"];
  readonly event_id: I["seq"];
  /**
   * Milliseconds since the epoch: when it was said. Parley's clock for native events (Matrix keeps
   * the same time for their mirror), the homeserver's for events from Matrix.
   */
  readonly ts: number;
  /** The message this one answers. */
  readonly reply_to?: I["seq"];
  /** The message this one edits or deletes. */
  readonly replaces?: I["seq"];
  /** Set on a message whose content a later edit or delete replaced (as fetched). */
  readonly edited?: true;
  /** On fetched messages that have reactions. */
  readonly reactions?: Reactions<I>;
  /** A message to chosen recipients: only they, its sender and moderators receive it (not on Matrix). */
  readonly to?: I["user"][];
  /** A moderator marked the message's files NSFW (`chat.media.mark`). */
  readonly nsfw?: true;
  /**
   * Held for media review: only moderators and the sender get it until a moderator marks it
   * (then `chat.event.update` brings it to everyone, without the flag).
   */
  readonly pending_review?: true;
}

export type ChatEvent<I extends Ids = Ids> =
  | (EventBase<I> & { readonly event_type: "channel.message"; readonly content: MessageContent })
  | (EventBase<I> & { readonly event_type: "channel.member"; readonly content: MemberContent<I> })
  | (EventBase<I> & { readonly event_type: "channel.reaction"; readonly content: ReactionContent<I> });

export type ChatEventType = ChatEvent["event_type"];

/** A member as lists show them: the user and their role in the channel. */
export type MemberView<I extends Ids = Ids> = UserView<I> & { readonly role: Role };

export interface RequiredClaim {
  readonly name: string;
  readonly value: string | number | boolean;
}

/** A channel's settings as moderators set them (`chat.settings`). */
export interface SettingsView {
  readonly slow_mode: number;
  readonly rules_required: boolean;
  readonly guests: boolean;
  readonly required_claim: RequiredClaim | null;
  /** "before": files from users below moderator are held until a moderator marks them. */
  readonly media_review: MediaReview;
  /** A live event is on in the channel (`chat.settings {"live": true}`), as the directory shows. */
  readonly live: boolean;
}

export type MediaReview = "off" | "before";

/** What `chat.join` and `chat.subscribe` answer, and the channel part of `chat.direct.create`. */
export interface ChannelSnapshot<I extends Ids = Ids> {
  readonly state: {
    readonly name: I["channel"];
    readonly topic: string | null;
    /** The Matrix room's name and avatar (mxc://), as Matrix users set them; null when unset. */
    readonly room_name: string | null;
    readonly avatar_url: string | null;
    readonly room_id: string;
    readonly alias: string;
    readonly role: Role;
    readonly rules: string | null;
    readonly settings: SettingsView;
  };
  readonly next_event_id: number;
  readonly members: MemberView<I>[];
}

/** What `chat.members` answers. */
export interface MemberList<I extends Ids = Ids> {
  /** With when each joined (ms since the epoch). */
  readonly members: Array<MemberView<I> & { readonly joined_at: number }>;
  /** How each member looks (`user.presence`): online, away, dnd or offline. */
  readonly presence?: Record<string, string>;
  readonly online: I["user"][];
  readonly seen: Array<{ readonly id: I["user"]; readonly last_seen: number }>;
  /** Only for moderators: members' karma (minus the timeouts they ever got), when not zero. */
  readonly karma?: Record<string, number>;
}

/** What `chat.fetch` answers. */
export interface FetchResult<I extends Ids = Ids> {
  readonly results: ChatEvent<I>[];
  readonly users: Record<string, UserView<I>>;
}

/** The `authenticated` frame. */
export interface Authenticated<I extends Ids = Ids> {
  readonly user: UserView<I>;
  readonly "chat.channels": Array<{ readonly id: I["channel"]; readonly unread_pointer: number }>;
  readonly "chat.read_pointers": Record<string, number>;
  readonly "chat.notification_counts": Record<string, number>;
}

/**
 * The `chat.send.failed` push: the homeserver refused an acknowledged action of yours for good, so
 * it was withdrawn (a message deleted, an edit or reaction undone) and never reached Matrix.
 */
export interface SendFailed<I extends Ids = Ids> {
  readonly channel: I["channel"];
  /** The event that was withdrawn. */
  readonly event_id: I["seq"];
  readonly code: ErrorCode;
  readonly message: string;
}

/** The `chat.event.reaction` push. */
export interface ReactionChange<I extends Ids = Ids> {
  readonly channel: I["channel"];
  readonly event: I["seq"];
  readonly reactions: Reactions<I>;
  readonly event_id: I["seq"];
  readonly sender?: I["user"];
}

/** What `chat.media` answers. */
export interface MediaPage<I extends Ids = Ids> {
  readonly items: Array<{
    readonly event_id: I["seq"];
    readonly sender: I["user"] | null;
    readonly ts: number;
    readonly kind: "file" | "link";
    readonly url: string;
    readonly name?: string;
    readonly mimeType?: string;
    /** The message's files were marked NSFW (on every item of the message). */
    readonly nsfw?: true;
    /** The message is held for media review (only moderators and the sender see it). */
    readonly pending_review?: true;
  }>;
  readonly next_before_id: number | null;
}

/** One channel of `chat.directory`. */
export interface DirectoryEntry<I extends Ids = Ids> {
  readonly id: I["channel"];
  readonly topic: string | null;
  /** Joined members and how many of them are online, as of the ranking the page comes from. */
  readonly members: number;
  readonly online: number;
  /** A live event is on. */
  readonly live?: true;
}

/** What `chat.directory` answers; `next_cursor` asks for the next page of the same ranking. */
export interface DirectoryPage<I extends Ids = Ids> {
  readonly results: DirectoryEntry<I>[];
  readonly next_cursor?: string;
}

/** What `user.list.search` answers: up to 20 users a page. */
export interface UserSearchPage<I extends Ids = Ids> {
  readonly results: UserView<I>[];
  readonly isLastPage: boolean;
}
