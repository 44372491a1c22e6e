// Rows as both adapters read them, and how they become the port's types: the column lists and
// mappers are shared so SQLite and PostgreSQL cannot answer the same query differently. A flag is
// 0/1 in SQLite and a boolean in PostgreSQL; JSON is text in both.
import type {
  ApiKeyRow,
  ApiScope,
  ChannelRow,
  ChannelSettings,
  FoundUser,
  ListedChannel,
  MediaInfoRow,
  MemberRow,
  NativeUserRow,
  NewEvent,
  OutboxEntry,
  OutboxKind,
  ReactionRow,
  ReactionSummary,
  RequiredClaim,
  SettingsPatch,
  StoredEvent,
  SubscriptionCursor,
  SubscriptionRow,
  TimeoutRow,
  WebhookRow,
} from "../domain/ports/store.ts";
import type { MembershipKind } from "../protocol/events.ts";
import {
  asChannelName,
  asEventSeq,
  asMatrixEventId,
  asRoomId,
  asUserId,
  type EventSeq,
  type UserId,
} from "../protocol/ids.ts";
import { dict } from "../shared/dict.ts";

export type Flag = number | boolean;
export const isSet = (flag: Flag): boolean => flag === true || flag === 1;
const json = (text: string): unknown => JSON.parse(text) as unknown;

export interface ChannelRecord {
  id: number;
  name: string;
  room_id: string;
  alias: string;
  created_at: number;
  join_rule: string;
  power_levels: string | null;
  topic: string | null;
  closed_at: number | null;
  room_name: string | null;
  avatar_url: string | null;
  creator: string | null;
}
export const CHANNEL_COLUMNS =
  "c.id, c.name, c.room_id, c.alias, c.created_at, c.join_rule, c.power_levels, c.topic, c.closed_at, c.room_name, c.avatar_url, c.creator";
export const toChannel = (r: ChannelRecord): ChannelRow => ({
  id: r.id,
  name: asChannelName(r.name),
  roomId: asRoomId(r.room_id),
  alias: r.alias,
  createdAt: r.created_at,
  joinRule: r.join_rule,
  powerLevels: r.power_levels === null ? null : json(r.power_levels),
  topic: r.topic,
  closedAt: r.closed_at,
  roomName: r.room_name,
  avatarUrl: r.avatar_url,
  creator: r.creator === null ? null : asUserId(r.creator),
});

export interface MemberRecord {
  user_id: string;
  membership: string;
  display_name: string | null;
  avatar_url: string | null;
  updated_at: number;
  last_seen: number | null;
}
export const MEMBER_COLUMNS = "user_id, membership, display_name, avatar_url, updated_at, last_seen";
export const toMember = (r: MemberRecord): MemberRow => ({
  userId: asUserId(r.user_id),
  membership: r.membership as MembershipKind | "invite",
  displayName: r.display_name,
  avatarUrl: r.avatar_url,
  updatedAt: r.updated_at,
  lastSeen: r.last_seen,
});

export interface NativeUserRecord {
  user_id: string;
  localpart: string;
  display_name: string | null;
  avatar_url: string | null;
  is_guest: Flag;
  matrix_display_name: string | null;
}
export const NATIVE_USER_COLUMNS =
  "user_id, localpart, display_name, avatar_url, is_guest, matrix_display_name";
export const toNativeUser = (r: NativeUserRecord): NativeUserRow => ({
  userId: asUserId(r.user_id),
  localpart: r.localpart,
  displayName: r.display_name,
  avatarUrl: r.avatar_url,
  isGuest: isSet(r.is_guest),
  matrixDisplayName: r.matrix_display_name,
});

export interface EventRecord {
  channel_id: number;
  seq: number;
  matrix_event_id: string | null;
  event_type: string;
  sender: string | null;
  content: string;
  ts: number;
  reply_to: number | null;
  replaces: number | null;
  edited: Flag;
  nsfw: Flag;
  pending_review: Flag;
}
export const EVENT_COLUMNS =
  "channel_id, seq, matrix_event_id, event_type, sender, content, ts, reply_to, replaces, edited, nsfw, pending_review";
export const toEvent = (r: EventRecord): StoredEvent => ({
  channelId: r.channel_id,
  seq: asEventSeq(r.seq),
  matrixEventId: r.matrix_event_id === null ? null : asMatrixEventId(r.matrix_event_id),
  eventType: r.event_type,
  sender: r.sender === null ? null : asUserId(r.sender),
  content: json(r.content),
  ts: r.ts,
  replyTo: r.reply_to,
  replaces: r.replaces,
  edited: isSet(r.edited),
  nsfw: isSet(r.nsfw),
  pendingReview: isSet(r.pending_review),
});

/**
 * A new event's column values, in the order of both adapters' INSERT: the seq, then the rest
 * (pending_review last, as the dialect's flag).
 */
export const newEventValues = (event: NewEvent, seq: EventSeq, dialect: "sqlite" | "postgres") =>
  [
    event.channelId,
    seq,
    event.matrixEventId ?? null,
    event.eventType,
    event.sender,
    JSON.stringify(event.content),
    event.ts,
    event.replyTo ?? null,
    event.replaces ?? null,
    dialect === "sqlite" ? (event.pendingReview ? 1 : 0) : (event.pendingReview ?? false),
  ] as const;

/** What appending `event` at `seq` logged, as the port returns it. */
export const appendedEvent = (event: NewEvent, seq: EventSeq): StoredEvent => ({
  ...event,
  matrixEventId: event.matrixEventId ?? null,
  seq,
  replyTo: event.replyTo ?? null,
  replaces: event.replaces ?? null,
  edited: false,
  nsfw: false,
  pendingReview: event.pendingReview ?? false,
});

export interface ReactionRecord {
  channel_id: number;
  target_seq: number;
  user_id: string;
  reaction: string;
  matrix_event_id: string | null;
  outbox_id: number | null;
}
export const REACTION_COLUMNS = "channel_id, target_seq, user_id, reaction, matrix_event_id, outbox_id";
export const toReaction = (r: ReactionRecord): ReactionRow => ({
  channelId: r.channel_id,
  targetSeq: r.target_seq,
  userId: asUserId(r.user_id),
  reaction: r.reaction,
  matrixEventId: r.matrix_event_id === null ? null : asMatrixEventId(r.matrix_event_id),
  outboxId: r.outbox_id,
});

/** Reactions (in the order they were added) grouped per wanted message: who reacted with what. */
export function summarizeReactions(
  rows: readonly ReactionRecord[],
  targetSeqs: ReadonlySet<number>,
): Map<number, ReactionSummary> {
  const summaries = new Map<number, ReactionSummary>();
  for (const row of rows) {
    if (!targetSeqs.has(row.target_seq)) continue;
    const summary = summaries.get(row.target_seq) ?? dict<UserId[]>();
    summary[row.reaction] = [...(summary[row.reaction] ?? []), asUserId(row.user_id)];
    summaries.set(row.target_seq, summary);
  }
  return summaries;
}

export interface OutboxRecord {
  id: number;
  channel_id: number;
  seq: number | null;
  kind: string;
  actor: string | null;
  payload: string;
  created_at: number;
  state: string;
  attempts: number;
  first_attempt_at: number | null;
  next_attempt_at: number;
  last_error: string | null;
  matrix_event_id: string | null;
}
export const OUTBOX_COLUMNS =
  "id, channel_id, seq, kind, actor, payload, created_at, state, attempts, first_attempt_at, next_attempt_at, last_error, matrix_event_id";
export const toOutboxEntry = (r: OutboxRecord): OutboxEntry => ({
  id: r.id,
  channelId: r.channel_id,
  seq: r.seq,
  kind: r.kind as OutboxKind,
  actor: r.actor === null ? null : asUserId(r.actor),
  payload: json(r.payload),
  createdAt: r.created_at,
  state: r.state as OutboxEntry["state"],
  attempts: r.attempts,
  firstAttemptAt: r.first_attempt_at,
  nextAttemptAt: r.next_attempt_at,
  lastError: r.last_error,
  matrixEventId: r.matrix_event_id === null ? null : asMatrixEventId(r.matrix_event_id),
});

export interface SettingsRecord {
  slow_mode: number;
  rules: string | null;
  rules_required: Flag;
  rules_version: number;
  guests: Flag;
  required_claim: string | null;
  parent_channel_id: number | null;
  media_review: string;
  live: Flag;
}
export const SETTINGS_COLUMNS =
  "slow_mode, rules, rules_required, rules_version, guests, required_claim, parent_channel_id, media_review, live";
/** What a channel without a settings row has (the columns' defaults). */
export const DEFAULT_SETTINGS: SettingsRecord = {
  slow_mode: 0,
  rules: null,
  rules_required: 0,
  rules_version: 0,
  guests: 1,
  required_claim: null,
  parent_channel_id: null,
  media_review: "off",
  live: 0,
};
export const toSettings = (r: SettingsRecord): ChannelSettings => ({
  slowMode: r.slow_mode,
  rules: r.rules,
  rulesRequired: isSet(r.rules_required),
  rulesVersion: r.rules_version,
  guests: isSet(r.guests),
  requiredClaim: r.required_claim === null ? null : (json(r.required_claim) as RequiredClaim),
  parentChannelId: r.parent_channel_id,
  mediaReview: r.media_review === "before" ? "before" : "off",
  live: isSet(r.live),
});

/** The settings after `patch`; a change of the rules bumps their version. */
export function patchSettings(current: SettingsRecord, patch: SettingsPatch): SettingsRecord {
  const rulesChanged = patch.rules !== undefined && patch.rules !== current.rules;
  return {
    slow_mode: patch.slowMode ?? current.slow_mode,
    rules: patch.rules !== undefined ? patch.rules : current.rules,
    rules_required: patch.rulesRequired === undefined ? current.rules_required : patch.rulesRequired ? 1 : 0,
    rules_version: current.rules_version + (rulesChanged ? 1 : 0),
    guests: patch.guests === undefined ? current.guests : patch.guests ? 1 : 0,
    required_claim:
      patch.requiredClaim === undefined
        ? current.required_claim
        : patch.requiredClaim === null
          ? null
          : JSON.stringify(patch.requiredClaim),
    parent_channel_id:
      patch.parentChannelId !== undefined ? patch.parentChannelId : current.parent_channel_id,
    media_review: patch.mediaReview ?? current.media_review,
    live: patch.live === undefined ? current.live : patch.live ? 1 : 0,
  };
}

export interface TimeoutRecord {
  channel_id: number;
  user_id: string;
  until: number;
  previous_level: number | null;
  by: string;
  reason: string | null;
}
export const TIMEOUT_COLUMNS = "channel_id, user_id, until, previous_level, by, reason";
export const toTimeout = (r: TimeoutRecord): TimeoutRow => ({
  channelId: r.channel_id,
  userId: asUserId(r.user_id),
  until: r.until,
  previousLevel: r.previous_level,
  by: asUserId(r.by),
  reason: r.reason,
});

export interface InboxRecord {
  id: number;
  matrix_event_id: string;
  room_id: string;
  body: string;
}
export const toInboxEntry = (r: InboxRecord) => ({
  id: r.id,
  matrixEventId: r.matrix_event_id,
  roomId: r.room_id,
  body: json(r.body),
});

export interface ApiKeyRecord {
  id: string;
  name: string;
  scope: string;
  secret_hash: string;
  created_at: number;
  revoked_at: number | null;
}
export const API_KEY_COLUMNS = "id, name, scope, secret_hash, created_at, revoked_at";
export const toApiKey = (r: ApiKeyRecord): ApiKeyRow => ({
  id: r.id,
  name: r.name,
  scope: r.scope as ApiScope,
  secretHash: r.secret_hash,
  createdAt: r.created_at,
  revokedAt: r.revoked_at,
});
export const apiKeyValues = (key: ApiKeyRow) =>
  [key.id, key.name, key.scope, key.secretHash, key.createdAt, key.revokedAt] as const;

export interface WebhookRecord {
  id: string;
  channel_id: number;
  name: string;
  avatar_url: string | null;
  secret_hash: string;
  created_by: string;
  created_at: number;
}
export const WEBHOOK_COLUMNS = "id, channel_id, name, avatar_url, secret_hash, created_by, created_at";
export const toWebhook = (r: WebhookRecord): WebhookRow => ({
  id: r.id,
  channelId: r.channel_id,
  name: r.name,
  avatarUrl: r.avatar_url,
  secretHash: r.secret_hash,
  createdBy: asUserId(r.created_by),
  createdAt: r.created_at,
});
export const webhookValues = (hook: WebhookRow) =>
  [
    hook.id,
    hook.channelId,
    hook.name,
    hook.avatarUrl,
    hook.secretHash,
    hook.createdBy,
    hook.createdAt,
  ] as const;

/** A LIKE pattern that finds `text` anywhere, with LIKE's wildcards in it taken literally. */
export const containsPattern = (text: string): string => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/**
 * Channels that are not private conversations (direct or moderators' ones, by their reserved
 * names, case-sensitively as isReservedName reads them): SQLite's GLOB and PostgreSQL's LIKE
 * both match case.
 */
export const notPrivateConversation = (dialect: "sqlite" | "postgres"): string =>
  dialect === "sqlite"
    ? "c.name NOT GLOB 'dm.*' AND c.name NOT GLOB 'mods.*' AND c.name NOT GLOB '*.mods'"
    : "c.name NOT LIKE 'dm.%' AND c.name NOT LIKE 'mods.%' AND c.name NOT LIKE '%.mods'";

/** The directory's filter: open channels that are neither direct nor moderators' ones. */
export const directoryWhere = (dialect: "sqlite" | "postgres"): string =>
  `c.closed_at IS NULL AND ${notPrivateConversation(dialect)}`;

/** What the protocol's directory lists: public, guests allowed, open, not a private conversation. */
export const listedWhere = (dialect: "sqlite" | "postgres"): string =>
  `${directoryWhere(dialect)} AND c.join_rule = 'public' AND s.parent_channel_id IS NULL AND ${
    dialect === "sqlite" ? "COALESCE(s.guests, 1) = 1" : "COALESCE(s.guests, true)"
  }`;
export const LISTED_COLUMNS = "c.id, c.name, c.topic, c.member_count, s.live";
export interface ListedRecord {
  id: number;
  name: string;
  topic: string | null;
  member_count: number | string;
  live: Flag | null;
}
export const toListed = (r: ListedRecord): ListedChannel => ({
  id: Number(r.id),
  name: asChannelName(r.name),
  topic: r.topic,
  members: Number(r.member_count),
  live: r.live !== null && isSet(r.live),
});

/**
 * user.list.search, both dialects, over user_directory (one row per user, with their kind): who is
 * in a public channel (not guests) or shares one with the caller, integrations never. Scanned in
 * user id order, so a common term stops after a page; `:p` (a contains pattern), `:caller`,
 * `:exclude`, `:mine` (the caller's joined channels: a JSON array in SQLite, an array in PostgreSQL).
 */
export const userSearchWhere = (dialect: "sqlite" | "postgres", scanned = false): string => {
  const like = dialect === "sqlite" ? "LIKE :p ESCAPE '\\'" : "LIKE :p";
  // One look at the user's memberships (a few index rows) per candidate. OFFSET 0 keeps PostgreSQL from turning the check into a
  // join over every membership (it then hashes all 300,000 to answer 21 rows).
  const fence = dialect === "postgres" ? " OFFSET 0" : "";
  // The caller's channels, a parameter: looked up first, a handful of ids.
  const mine = dialect === "postgres" ? "= ANY(:mine::bigint[])" : "IN (SELECT value FROM json_each(:mine))";
  // `scanned`: an expression no index covers, for terms too short for trigrams (PostgreSQL would
  // read the whole trigram index for one, slower than walking the rows).
  return `${scanned ? "(d.search || '')" : "d.search"} ${like} AND d.user_id <> :caller AND d.user_id <> :exclude AND d.kind <> 'integration'
    AND EXISTS (SELECT 1 FROM members m JOIN channels c ON c.id = m.channel_id
      WHERE m.user_id = d.user_id AND m.membership = 'join'
      AND ((d.kind <> 'guest' AND c.join_rule = 'public' AND ${directoryWhere(dialect)})
        OR m.channel_id ${mine})${fence})`;
};
/** user_directory.search's case folding (ASCII only, as SQLite's and PostgreSQL's C lower()). */
export const lowerAscii = (text: string): string => text.replace(/[A-Z]/g, (c) => c.toLowerCase());
export const FOUND_USER_COLUMNS = "d.user_id, d.display_name, d.avatar_url";
export interface FoundUserRecord {
  user_id: string;
  display_name: string | null;
  avatar_url: string | null;
}
export const toFoundUser = (r: FoundUserRecord): FoundUser => ({
  userId: asUserId(r.user_id),
  displayName: r.display_name,
  avatarUrl: r.avatar_url,
});

export interface SubscriptionRecord {
  id: string;
  url: string;
  secret: string;
  channels: string | null;
  events: string | null;
  created_at: number;
  created_by: string;
}
export const SUBSCRIPTION_COLUMNS = "s.id, s.url, s.secret, s.channels, s.events, s.created_at, s.created_by";
const list = (text: string | null): string[] | null => (text === null ? null : (json(text) as string[]));
export const toSubscription = (r: SubscriptionRecord): SubscriptionRow => ({
  id: r.id,
  url: r.url,
  secret: r.secret,
  channels: list(r.channels),
  events: list(r.events),
  createdAt: r.created_at,
  createdBy: r.created_by,
});
/** A new subscription's column values, in the order of both adapters' INSERT. */
export const subscriptionValues = (s: SubscriptionRow) =>
  [
    s.id,
    s.url,
    s.secret,
    s.channels === null ? null : JSON.stringify(s.channels),
    s.events === null ? null : JSON.stringify(s.events),
    s.createdAt,
    s.createdBy,
  ] as const;

export interface SubscriptionCursorRecord extends SubscriptionRecord {
  seq: number;
  attempts: number;
  next_attempt_at: number;
  first_failure_at: number | null;
  last_error: string | null;
}
/** A subscription and its cursor in one channel; a missing cursor row reads as seq 0, no failures. */
export const SUBSCRIPTION_CURSOR_COLUMNS = `${SUBSCRIPTION_COLUMNS}, COALESCE(k.seq, 0) AS seq,
  COALESCE(k.attempts, 0) AS attempts, COALESCE(k.next_attempt_at, 0) AS next_attempt_at,
  k.first_failure_at, k.last_error`;
export const toSubscriptionCursor = (r: SubscriptionCursorRecord, channelId: number): SubscriptionCursor => ({
  subscription: toSubscription(r),
  channelId,
  seq: r.seq,
  attempts: r.attempts,
  nextAttemptAt: r.next_attempt_at,
  firstFailureAt: r.first_failure_at,
  lastError: r.last_error,
});

export interface MediaInfoRecord {
  mxc: string;
  size: number;
  width: number | null;
  height: number | null;
  thumbnail_mxc: string | null;
}
export const MEDIA_INFO_COLUMNS = "mxc, size, width, height, thumbnail_mxc";
export const toMediaInfo = (r: MediaInfoRecord): MediaInfoRow => ({
  mxc: r.mxc,
  size: r.size,
  width: r.width,
  height: r.height,
  thumbnailMxc: r.thumbnail_mxc,
});
export const mediaInfoValues = (info: MediaInfoRow, at: number) =>
  [info.mxc, info.size, info.width, info.height, info.thumbnailMxc, at] as const;
