// The storage port: what the chat domain needs from a store. Each concern is written as the
// queries it answers; the domain sees them asynchronously (`Store`), because the PostgreSQL
// adapter (src/store/postgres) answers over the network. The SQLite adapter (src/store/sqlite)
// answers the same queries in-process.

import type { MembershipKind, Profile, RequiredClaim } from "../../protocol/events.ts";
import type { ChannelName, EventSeq, MatrixEventId, RoomId, UserId } from "../../protocol/ids.ts";

export interface ChannelRow {
  readonly id: number;
  readonly name: ChannelName;
  readonly roomId: RoomId;
  readonly alias: string;
  readonly createdAt: number;
  /** The room's join rule; only `public` channels can be read without subscribing or joining. */
  readonly joinRule: string;
  /** The content of the room's m.room.power_levels event, as last seen. */
  readonly powerLevels: unknown;
  /** The room's topic (m.room.topic), or null. */
  readonly topic: string | null;
  /** When the server API closed it (no new members, history kept), or null. */
  readonly closedAt?: number | null | undefined;
  /** The room's name (m.room.name) and avatar (m.room.avatar, an mxc URI), as Matrix users set them. */
  readonly roomName?: string | null | undefined;
  readonly avatarUrl?: string | null | undefined;
  /** Who created the room when it was not the bot (direct rooms): above every power level. */
  readonly creator?: UserId | null | undefined;
}

/** How far history before Parley's own log has been fetched from the homeserver. */
export interface BackfillState {
  /** The `/messages` token to continue backwards from; null before the first page. */
  readonly token: string | null;
  readonly done: boolean;
}

export interface NativeUserRow {
  readonly userId: UserId;
  readonly localpart: string;
  readonly displayName: string | null;
  readonly avatarUrl: string | null;
  readonly isGuest: boolean;
  /** The display name last pushed to the homeserver, to skip needless profile writes. */
  readonly matrixDisplayName: string | null;
}

export interface MemberRow {
  readonly userId: UserId;
  readonly membership: MembershipKind | "invite";
  readonly displayName: string | null;
  readonly avatarUrl: string | null;
  readonly updatedAt: number;
  /** The last time the user was active in the channel (ms); null if never seen active. */
  readonly lastSeen: number | null;
}

export interface StoredEvent {
  readonly channelId: number;
  readonly seq: EventSeq;
  /** Null until the outbox has mirrored a native event to Matrix. */
  readonly matrixEventId: MatrixEventId | null;
  readonly eventType: string;
  readonly sender: UserId | null;
  readonly content: unknown;
  readonly ts: number;
  readonly replyTo: number | null;
  readonly replaces: number | null;
  /** The content was replaced by a later edit or delete. */
  readonly edited: boolean;
  /** A moderator marked the message's files NSFW (`chat.media.mark`); absent is false. */
  readonly nsfw?: boolean;
  /** Held for media review: only moderators and the sender see it until marked; absent is false. */
  readonly pendingReview?: boolean;
}

export interface NewEvent {
  readonly channelId: number;
  /** Absent for a native event: it gets one when the outbox has mirrored it. */
  readonly matrixEventId?: MatrixEventId | null | undefined;
  readonly eventType: string;
  readonly sender: UserId | null;
  readonly content: unknown;
  readonly ts: number;
  readonly replyTo?: number | null | undefined;
  /** Held for media review (see StoredEvent). */
  readonly pendingReview?: boolean | undefined;
  readonly replaces?: number | null | undefined;
}

export interface ReactionRow {
  readonly channelId: number;
  readonly targetSeq: number;
  readonly userId: UserId;
  readonly reaction: string;
  /** Null until the outbox has mirrored a native reaction to Matrix. */
  readonly matrixEventId: MatrixEventId | null;
  /** A native reaction's outbox entry (its Matrix event is found through it once mirrored). */
  readonly outboxId?: number | null;
}

/** Who reacted with what to one message, in the order they reacted. */
export type ReactionSummary = Record<string, UserId[]>;

export interface MemberChange {
  readonly channelId: number;
  readonly userId: UserId;
  readonly membership: MemberRow["membership"];
  readonly profile: Profile;
  readonly at: number;
}

export interface InboxEntry {
  readonly id: number;
  readonly matrixEventId: string;
  readonly roomId: string;
  readonly body: unknown;
}

export type InboxOutcome = "done" | "skipped" | "failed";

export type { RequiredClaim };

export interface ChannelSettings {
  /** Seconds a user must wait between messages; 0 is off. */
  readonly slowMode: number;
  readonly rules: string | null;
  readonly rulesRequired: boolean;
  /** Grows with every change of the rules: an acceptance is for one version. */
  readonly rulesVersion: number;
  readonly guests: boolean;
  readonly requiredClaim: RequiredClaim | null;
  /** Set on a private moderator channel: the channel it belongs to. */
  readonly parentChannelId: number | null;
  /** "before": files from users below moderator are held until a moderator marks them. */
  readonly mediaReview: MediaReviewMode;
  /** The owners marked a live event on (seed 003): shown in the directory and the channel state. */
  readonly live: boolean;
}

export type MediaReviewMode = "off" | "before";

export type SettingsPatch = Partial<
  Pick<
    ChannelSettings,
    | "slowMode"
    | "rules"
    | "rulesRequired"
    | "guests"
    | "requiredClaim"
    | "parentChannelId"
    | "mediaReview"
    | "live"
  >
>;

export interface TimeoutRow {
  readonly channelId: number;
  readonly userId: UserId;
  readonly until: number;
  /** The power level to restore; null when the user had none of their own. */
  readonly previousLevel: number | null;
  readonly by: UserId;
  readonly reason: string | null;
}

export interface UserStatus {
  readonly banned: boolean;
  readonly silenced: boolean;
}

/** What moderation keeps: settings, rule acceptance, timeouts, karma, audiences, user status. */
export interface ModerationStore {
  settings(channelId: number): ChannelSettings;
  /** Applies the patch; a change of `rules` bumps the rules version. */
  updateSettings(channelId: number, patch: SettingsPatch): ChannelSettings;
  modChannelOf(parentChannelId: number): ChannelRow | undefined;
  acceptRules(channelId: number, userId: UserId, version: number): void;
  acceptedRulesVersion(channelId: number, userId: UserId): number | undefined;
  putTimeout(row: TimeoutRow): void;
  timeout(channelId: number, userId: UserId): TimeoutRow | undefined;
  /**
   * Ends a timeout; false when there was none (someone else ended it first), or, with
   * `onlyIfUntil`, when it no longer ends then (extended or replaced meanwhile, maybe on another node).
   */
  removeTimeout(channelId: number, userId: UserId, onlyIfUntil?: number): boolean;
  allTimeouts(): TimeoutRow[];
  /** The channel's timeouts and mutes (the primary key's prefix: no scan of the others). */
  channelTimeouts(channelId: number): TimeoutRow[];
  /** Adds one timeout to the user's record; returns their karma (minus the timeouts). */
  addKarma(userId: UserId): number;
  karma(userId: UserId): number;
  setAudience(channelId: number, userId: UserId, audience: string | null): void;
  audiences(channelId: number): Map<UserId, string>;
  userStatus(userId: UserId): UserStatus;
  setUserStatus(userId: UserId, status: UserStatus): void;
  setClaims(userId: UserId, claims: Readonly<Record<string, unknown>>): void;
  claims(userId: UserId): Readonly<Record<string, unknown>> | undefined;
}

export type ControlKind = "block" | "ignore";

/** Direct channels and users' personal controls. */
export interface DirectStore {
  setDirectMembers(channelId: number, userIds: readonly UserId[]): void;
  /** The users a direct channel belongs to; empty for other channels. */
  directMembers(channelId: number): UserId[];
  setControl(userId: UserId, other: UserId, kind: ControlKind, on: boolean): void;
  controlled(userId: UserId, kind: ControlKind): UserId[];
  /** Users who have `kind` to `other` (e.g. everyone who ignores them). */
  controllersOf(other: UserId, kind: ControlKind): UserId[];
}

/** Channels and the rooms they map to. */
export interface ChannelStore {
  channelByName(name: ChannelName): ChannelRow | undefined;
  channelByRoom(roomId: RoomId): ChannelRow | undefined;
  channelById(id: number): ChannelRow | undefined;
  /** Inserts the mapping, or returns the existing one for that name. */
  insertChannel(name: ChannelName, roomId: RoomId, alias: string): ChannelRow;
  allChannels(): ChannelRow[];
  setJoinRule(channelId: number, joinRule: string): void;
  setPowerLevels(channelId: number, content: unknown): void;
  setTopic(channelId: number, topic: string | null): void;
  setRoomName(channelId: number, name: string | null): void;
  setRoomAvatar(channelId: number, avatarUrl: string | null): void;
  setChannelCreator(channelId: number, creator: UserId): void;
}

/** Who is in which channel, with the profile they have there and when they were last active. */
export interface MemberStore {
  member(channelId: number, userId: UserId): MemberRow | undefined;
  joinedMembers(channelId: number): MemberRow[];
  /** The latest profile any channel recorded for a (Matrix) user. */
  lastKnownProfile(userId: UserId): Profile | undefined;
  setMember(change: MemberChange): void;
  channelsJoinedBy(userId: UserId): ChannelRow[];
  joinedCount(channelId: number): number;
  /** Everyone who has been in the channel, most recently seen first. */
  seenMembers(channelId: number, limit: number): MemberRow[];
  /** Records activity of a member (any membership) in one channel. */
  touchMember(channelId: number, userId: UserId, at: number): void;
  /** Records activity of a user in every channel they have joined. */
  touchJoinedMember(userId: UserId, at: number): void;
}

/** Native users and their puppets on the homeserver. */
export interface UserStore {
  nativeUser(userId: UserId): NativeUserRow | undefined;
  /** The native users among `userIds` (others are left out). */
  nativeUsers(userIds: readonly UserId[]): Map<UserId, NativeUserRow>;
  upsertNativeUser(user: { userId: UserId; localpart: string; isGuest: boolean }): NativeUserRow;
  setNativeProfile(userId: UserId, profile: Profile): void;
  setMatrixDisplayName(userId: UserId, displayName: string): void;
  isPuppetRegistered(userId: string): boolean;
  /**
   * Native users (not guests, not integrations) whose name or display name contains `term`
   * (case-insensitive), by name.
   */
  searchNativeUsers(term: string, limit: number): NativeUserRow[];
  addRegisteredPuppet(userId: string): void;
}

/** The per-channel event log, how far backfill went, and what clients' txn_ids produced. */
export interface EventStore {
  /**
   * Holds the channel's log until the transaction ends: what the log's writers read and change
   * before appending (a reaction summary, a membership, an edit's original) is then theirs alone,
   * whichever node they run on. Nothing to do where transactions run one at a time (SQLite).
   */
  holdChannelLog(channelId: number): void;
  /** Appends with the channel's next seq; returns undefined when that Matrix event is already logged. */
  appendEvent(event: NewEvent): StoredEvent | undefined;
  /** Logs a Matrix event older than everything logged, with the seq below the lowest. */
  prependEvent(event: NewEvent): StoredEvent | undefined;
  eventByMatrixId(matrixEventId: MatrixEventId): StoredEvent | undefined;
  eventBySeq(channelId: number, seq: EventSeq): StoredEvent | undefined;
  nextSeq(channelId: number): EventSeq;
  /** Up to `count` events with before > seq > after, oldest first; the newest ones when paging back. */
  eventsBetween(
    channelId: number,
    range: { after?: number; before?: number },
    count: number,
    newest: boolean,
  ): StoredEvent[];
  /** The oldest logged event that is on Matrix: where history from the homeserver continues. */
  oldestMirroredEvent(channelId: number): StoredEvent | undefined;
  newestEvent(channelId: number): StoredEvent | undefined;
  /**
   * Messages (not edits) that may hold files or links, newest first, below `beforeSeq`: the
   * candidates for a channel's media gallery.
   */
  postsWithMedia(channelId: number, beforeSeq: number | undefined, count: number): StoredEvent[];
  /** The highest seq of a channel.message, or 0: what a member's unread pointer points at. */
  latestMessageSeq(channelId: number): number;
  /** Rewrites a logged event's content (an edit) and marks it edited. */
  replaceContent(channelId: number, seq: number, content: unknown): void;
  /**
   * A delete: the message and every edit of it become `{type: "deleted"}`, so no text survives;
   * a message to chosen recipients keeps them (`to`), so its stub stays as private as it was.
   */
  deleteContent(channelId: number, seq: number, recipients?: readonly string[]): void;
  /**
   * A moderator's media mark: sets the message's `nsfw` and ends its hold. True when this call
   * ended the hold (it was pending_review), so exactly one of two racing marks releases it.
   */
  markMedia(channelId: number, seq: number, nsfw: boolean): boolean;
  backfill(channelId: number): BackfillState;
  setBackfill(channelId: number, state: BackfillState): void;
  /** The log entry a user's earlier send with this txn_id in this channel produced, if any. */
  sentTxn(userId: UserId, channelId: number, txnId: string): EventSeq | undefined;
  /** False when that txn_id is recorded already (a concurrent retry got there first). */
  recordSentTxn(userId: UserId, channelId: number, txnId: string, seq: EventSeq): boolean;
  /** The Matrix event a native event became, once the outbox has mirrored it. */
  setEventMatrixId(channelId: number, seq: number, matrixEventId: MatrixEventId): void;
}

/** Who reacted with what to which message. */
export interface ReactionStore {
  /** Adds one user's reaction; false when they already reacted so (or the Matrix event is known). */
  addReaction(reaction: ReactionRow): boolean;
  /** Removes it; returns the removed row (its Matrix event is what a redaction must target). */
  removeReaction(
    channelId: number,
    targetSeq: number,
    userId: UserId,
    reaction: string,
  ): ReactionRow | undefined;
  reactionByMatrixId(matrixEventId: MatrixEventId): ReactionRow | undefined;
  findReaction(
    channelId: number,
    targetSeq: number,
    userId: UserId,
    reaction: string,
  ): ReactionRow | undefined;
  reactionSummaries(channelId: number, targetSeqs: readonly number[]): Map<number, ReactionSummary>;
  /** The outbox entry mirroring a native reaction (an unreact before it is mirrored finds it). */
  setReactionOutbox(
    channelId: number,
    targetSeq: number,
    userId: UserId,
    reaction: string,
    outboxId: number,
  ): void;
  /** The Matrix event a native reaction became, once the outbox has mirrored it. */
  setReactionMatrixId(outboxId: number, matrixEventId: MatrixEventId): void;
}

/** Read pointers and notifications per user and channel. */
export interface ReadStore {
  addNotification(userId: UserId, channelId: number, seq: number): void;
  /** Drops the user's notifications in the channel up to and including `seq`. */
  clearNotifications(userId: UserId, channelId: number, seq: number): void;
  notificationCounts(userId: UserId): Array<{ channelId: number; count: number }>;
  readPointers(userId: UserId): Array<{ channelId: number; seq: number }>;
  readPointer(userId: UserId, channelId: number): number | undefined;
  /** Moves the pointer forward only; returns whether it moved. */
  advanceReadPointer(userId: UserId, channelId: number, seq: number, at: number): boolean;
}

/** Synapse's transactions, written down before they are answered, and processed once. */
export interface InboxStore {
  /** Records transaction events; ones already seen (by Matrix event id) are ignored. */
  recordInbox(events: ReadonlyArray<{ matrixEventId: string; roomId: string; body: unknown }>): number;
  pendingInbox(limit: number): InboxEntry[];
  finishInbox(id: number, outcome: InboxOutcome, note?: string): void;
  /** How the inbox handled an event (for operators and tests): its status and note. */
  inboxStatus(matrixEventId: string): { status: string; note: string | null } | undefined;
  /** Whether a Matrix event already reached us (by transaction, or logged from a send). */
  isKnownEvent(matrixEventId: string): boolean;
  /** Forgets processed inbox rows and sent txn ids older than `before` (ms); returns rows removed. */
  pruneBefore(before: number): number;
  /** How many events wait to be processed, and since when the oldest (for the metrics). */
  inboxStats(): { pending: number; oldestReceivedAt: number | null };
}

/** What the outbox mirrors to Matrix: each kind is one homeserver call (see domain/outbox.ts). */
export type OutboxKind =
  | "message"
  | "edit"
  | "delete"
  | "react"
  | "unreact"
  | "join"
  | "leave"
  | "membership"
  | "power_level"
  | "notice"
  | "room_state"
  | "receipt";

export interface NewOutboxEntry {
  readonly channelId: number;
  /** The log entry it mirrors, if any. */
  readonly seq: number | null;
  readonly kind: OutboxKind;
  /** The puppet that acts; null for the bridge bot. */
  readonly actor: UserId | null;
  readonly payload: unknown;
  readonly createdAt: number;
}

export interface OutboxEntry extends NewOutboxEntry {
  readonly id: number;
  readonly state: "pending" | "done" | "refused";
  readonly attempts: number;
  readonly firstAttemptAt: number | null;
  readonly nextAttemptAt: number;
  readonly lastError: string | null;
  readonly matrixEventId: MatrixEventId | null;
}

/** Native actions waiting to reach Matrix, per channel in order; kept a while once done. */
export interface OutboxStore {
  enqueueOutbox(entry: NewOutboxEntry): number;
  outboxEntry(id: number): OutboxEntry | undefined;
  /** The channel's oldest pending entry (the only one that may be in flight). */
  nextOutboxEntry(channelId: number): OutboxEntry | undefined;
  /** The channel's pending entries of one kind, oldest first. */
  pendingOutbox(channelId: number, kind: OutboxKind): OutboxEntry[];
  /** Channels with pending entries. */
  outboxChannels(): number[];
  recordOutboxAttempt(id: number, at: number, error: string, nextAttemptAt: number): void;
  finishOutbox(
    id: number,
    state: "done" | "refused",
    matrixEventId: MatrixEventId | null,
    error: string | null,
    at: number,
  ): void;
  /** How many entries wait, and since when the oldest. */
  outboxStats(): { pending: number; oldestCreatedAt: number | null };
}

/** Which node does a job (drains a channel's outbox, processes the inbox) until when. */
export interface LeaseStore {
  /** Takes the lease for `ttlMs` if it is free, has run out, or is `holder`'s already (a renewal). */
  acquireLease(name: string, holder: string, ttlMs: number, now: number): boolean;
  /** Gives it up, if `holder` has it. */
  releaseLease(name: string, holder: string): void;
}

export type ApiScope = "read" | "post" | "admin";

export interface ApiKeyRow {
  readonly id: string;
  readonly name: string;
  readonly scope: ApiScope;
  /** SHA-256 (hex) of the key's secret part: the key itself is never stored. */
  readonly secretHash: string;
  readonly createdAt: number;
  readonly revokedAt: number | null;
}

export interface WebhookRow {
  readonly id: string;
  readonly channelId: number;
  readonly name: string;
  readonly avatarUrl: string | null;
  readonly secretHash: string;
  readonly createdBy: UserId;
  readonly createdAt: number;
}

/** One page of the channel directory. */
export interface DirectoryQuery {
  /** Only names containing this (case-insensitive). */
  readonly search?: string | undefined;
  /** Names after this one (the previous page's last). */
  readonly after?: string | undefined;
  readonly limit: number;
  /** Invite-only channels too (never direct or moderators' channels). */
  readonly includePrivate: boolean;
}

/** A channel as the protocol's directory (chat.directory) ranks it. */
export interface ListedChannel {
  readonly id: number;
  readonly name: ChannelName;
  readonly topic: string | null;
  /** Joined members (kept by the store as memberships change). */
  readonly members: number;
  /** A live event is on (chat.settings `live`). */
  readonly live: boolean;
}

/** A user as user.list.search shows them: their latest profile in any channel. */
export interface FoundUser {
  readonly userId: UserId;
  readonly displayName: string | null;
  readonly avatarUrl: string | null;
}

export interface UserSearchQuery {
  /** Found in the user id or the display name (case-insensitive). */
  readonly term: string;
  /** Who asks: users sharing a channel with them are found, guests included. */
  readonly caller: UserId;
  /** Never found (the bridge bot). */
  readonly exclude: UserId;
  readonly limit: number;
  readonly offset: number;
}

/** What the protocol's directory and user search read (PROTOCOL.md section 8). */
export interface DirectoryStore {
  /**
   * Every channel the directory lists: public (join rule), guests allowed, open, and neither
   * direct nor moderators'. Unordered.
   */
  listedChannels(): ListedChannel[];
  /** Those of these channels that are still listed, as they are now. */
  listedAmong(channelIds: readonly number[]): ListedChannel[];
  /** Per channel, how many of these users have joined it (channels with none are left out). */
  joinedCountsAmong(userIds: readonly UserId[]): Map<number, number>;
  /**
   * Users (native and Matrix, never integrations, the caller or `exclude`) whose id or display
   * name contains the term, who are in a public channel (guests only if they share a channel
   * with the caller) or share any channel with the caller; by user id.
   */
  searchUsers(query: UserSearchQuery): FoundUser[];
}

/** What the server API keeps: its keys, channels' incoming webhooks, closed channels. */
export interface IntegrationStore {
  insertApiKey(key: ApiKeyRow): void;
  apiKey(id: string): ApiKeyRow | undefined;
  apiKeys(): ApiKeyRow[];
  /** True when the key existed and was not revoked yet. */
  revokeApiKey(id: string, at: number): boolean;
  insertWebhook(hook: WebhookRow): void;
  /** A live (not deleted) hook. */
  webhook(id: string): WebhookRow | undefined;
  webhooksOf(channelId: number): WebhookRow[];
  /** True when the hook of that channel existed and was live. */
  deleteWebhook(channelId: number, id: string, at: number): boolean;
  closeChannel(channelId: number, at: number): void;
  directory(query: DirectoryQuery): ChannelRow[];
}

/** An event subscription: where matching logged events are POSTed, signed with its secret. */
export interface SubscriptionRow {
  /** A UUID. */
  readonly id: string;
  readonly url: string;
  readonly secret: string;
  /** The channels (by name) it follows; null: every channel. */
  readonly channels: readonly string[] | null;
  /** The event types (`channel.message`...) it wants; null: every type. */
  readonly events: readonly string[] | null;
  readonly createdAt: number;
  /** Who made it (an API key's id, say). */
  readonly createdBy: string;
}

/** Where a subscription stands in one channel. */
export interface SubscriptionCursor {
  readonly subscription: SubscriptionRow;
  readonly channelId: number;
  /** The last event it passed (delivered, filtered out or given up on); 0 before the first. */
  readonly seq: number;
  /** Failed attempts at the next event, when the next attempt may be made, since when it fails. */
  readonly attempts: number;
  readonly nextAttemptAt: number;
  readonly firstFailureAt: number | null;
  readonly lastError: string | null;
}

export interface SubscriptionFailure {
  readonly attempts: number;
  readonly nextAttemptAt: number;
  readonly firstFailureAt: number;
  readonly lastError: string;
}

/** Event subscriptions, and how far each got in each channel (src/domain/subscriptions/). */
export interface SubscriptionStore {
  /**
   * Inserts it with a cursor at the newest event of every existing channel it follows: it gets
   * what is logged from now on (a channel made later, from its first event).
   */
  createSubscription(row: SubscriptionRow): void;
  /** Every subscription, oldest first. */
  subscriptions(): SubscriptionRow[];
  /** Removes it and its cursors; false when there was none. */
  removeSubscription(id: string): boolean;
  /** Its cursor in the channel (seq 0 and no failures when it has none yet); undefined once removed. */
  subscriptionCursor(id: string, channelId: number): SubscriptionCursor | undefined;
  /** The channels where a subscription has events beyond its cursor, with when they may be tried. */
  subscriptionBacklog(): Array<{ subscriptionId: string; channelId: number; nextAttemptAt: number }>;
  /**
   * Moves the cursor from `from` on to `to` and clears the failures; false when it is not at `from`
   * any more (someone else moved it) or the subscription is gone.
   */
  advanceSubscriptionCursor(id: string, channelId: number, from: number, to: number): boolean;
  /** Records a failed attempt at the event after `at`; false when the cursor is not at `at` (or gone). */
  recordSubscriptionFailure(id: string, channelId: number, at: number, failure: SubscriptionFailure): boolean;
}

/** What Parley learnt of a file uploaded through it. */
export interface MediaInfoRow {
  readonly mxc: string;
  readonly size: number;
  /** An image's pixel size. */
  readonly width: number | null;
  readonly height: number | null;
  /** A smaller copy Parley made of a large image. */
  readonly thumbnailMxc: string | null;
}

export interface MediaInfoStore {
  setMediaInfo(info: MediaInfoRow, at: number): void;
  /** The known ones among these content URIs. */
  mediaInfo(mxcs: readonly string[]): Map<string, MediaInfoRow>;
}

/** Native users' chosen status, and Matrix users' last reported presence. */
export interface PresenceStore {
  setPresence(userId: UserId, status: string, at: number): void;
  /** The stored statuses among `userIds` (unknown ones are left out). */
  presenceOf(userIds: readonly UserId[]): Map<UserId, { status: string; at: number }>;
}

/** Every query of every concern, as an adapter writes them. */
export interface StoreQueries
  extends ChannelStore,
    DirectoryStore,
    IntegrationStore,
    LeaseStore,
    MediaInfoStore,
    PresenceStore,
    MemberStore,
    UserStore,
    EventStore,
    ReactionStore,
    ReadStore,
    InboxStore,
    OutboxStore,
    ModerationStore,
    DirectStore,
    SubscriptionStore {}

/** The same methods, answering with promises. */
export type Async<T> = {
  readonly [K in keyof T]: T[K] extends (...args: infer A) => infer R ? (...args: A) => Promise<R> : never;
};

export interface StoreControl {
  /** This installation's id (read when the store opens): it makes Matrix txnIds and echo markers Parley's own. */
  readonly instanceId: string;
  /**
   * Runs `work` atomically: every store call awaited inside it belongs to the transaction (a
   * nested `transaction` becomes a savepoint). Await only store calls inside: other callers wait
   * while it is open, so a transaction waiting on anything else can stall the store.
   */
  transaction<T>(work: () => Promise<T>): Promise<T>;
  /**
   * Runs `work` right after the current transaction commits, in commit order (at once when
   * called outside a transaction); dropped if it rolls back. Pushes go here, so subscribers see
   * events in the order they were logged.
   */
  afterCommit(work: () => void): void;
  close(): Promise<void>;
}

/** The whole store as the domain uses it: every concern, one transaction scope. */
export type Store = Async<StoreQueries> & StoreControl;
