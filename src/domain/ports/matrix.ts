// The Matrix port: what the chat domain asks of the homeserver. src/matrix implements it with
// matrix-bot-sdk intents. Implementations throw the errors below, never library-specific ones.

import type { Readable } from "node:stream";
import type { MessageContent, Profile } from "../../protocol/events.ts";
import type { MatrixEventId, RoomId, UserId } from "../../protocol/ids.ts";
import type { ParsedRoomEvent } from "../room-events.ts";

/** The homeserver could not be reached or answered 5xx: nothing was done. */
export class UpstreamUnavailableError extends Error {
  override readonly name = "UpstreamUnavailableError";
}

/** The homeserver refused (403 and the like); `errcode` is the Matrix error code. */
export class UpstreamRejectedError extends Error {
  override readonly name = "UpstreamRejectedError";
  readonly errcode: string;
  readonly status: number;
  constructor(errcode: string, status: number, message: string) {
    super(message);
    this.errcode = errcode;
    this.status = status;
  }
}

/** The homeserver asked Parley to slow down (429 `M_LIMIT_EXCEEDED`): nothing was done. */
export class UpstreamRateLimitedError extends Error {
  override readonly name = "UpstreamRateLimitedError";
  /** How long the homeserver asked to wait. */
  readonly retryAfterMs: number;
  constructor(retryAfterMs: number) {
    super(`the homeserver asked to retry after ${retryAfterMs} ms`);
    this.retryAfterMs = retryAfterMs;
  }
}

/** A file being read from the homeserver: the caller must consume or destroy `stream`. */
export interface DownloadedMedia {
  readonly stream: Readable;
  readonly contentType: string;
  /** Bytes, when the homeserver said. */
  readonly size?: number;
}

/** How a native action reaches Matrix, mirrored by the outbox. */
export interface Mirroring {
  /** When it was said (ms since the epoch): its origin_server_ts on Matrix (timestamp massaging). */
  readonly ts: number;
  /** Goes into the event's content; the echo carries it back, so Parley knows it as its own. */
  readonly marker: string;
  /** Unique per outbox entry: a retry with the same one posts once. */
  readonly txnId: string;
}

export type MembershipChange =
  | { readonly membership: "join"; readonly profile: Profile }
  | { readonly membership: "leave" | "ban"; readonly reason?: string | undefined };

/** A native message as the Matrix side should post it. */
export interface OutgoingMessage {
  readonly content: Exclude<MessageContent, { type: "deleted" }>;
  /** The Matrix event this message replies to. */
  readonly replyTo?: MatrixEventId | undefined;
  /** The Matrix event this message edits (an m.replace). */
  readonly replaces?: MatrixEventId | undefined;
  readonly mentions: readonly UserId[];
}

export interface MatrixPort {
  /**
   * Creates the room with this alias (`owner` at power level 100 from the start), or resolves and
   * returns the one that already has it. `powerLevels` is the content a new room starts with.
   */
  ensureRoom(
    aliasLocalpart: string,
    name: string,
    options?: { readonly visibility?: "public" | "private"; readonly owner?: UserId },
  ): Promise<{ readonly roomId: RoomId; readonly powerLevels?: unknown }>;
  /**
   * Sets one user's power level (null removes their entry) as `actor`'s puppet, or as the bot
   * when it is null; returns the room's new m.room.power_levels content.
   */
  setPowerLevel(
    roomId: RoomId,
    userId: UserId,
    level: number | null,
    actor?: UserId | null,
  ): Promise<unknown>;
  /**
   * A membership change of `target` done by `actor` (a puppet, or the bot when null): a join
   * (with the profile), a leave (one's own, a kick, or an unban), a ban.
   */
  setMembership(
    roomId: RoomId,
    actor: UserId | null,
    target: UserId,
    change: MembershipChange,
    mirroring: Mirroring,
  ): Promise<MatrixEventId>;
  /**
   * A direct-message room created by `creator`'s puppet (so Matrix clients show a DM with them),
   * with `is_direct` invites for `others`; the bot stays out (clients would count it among the
   * people the room is named for), and so does an alias. The creator is its owner.
   */
  createDirectRoom(
    creator: UserId,
    others: readonly UserId[],
  ): Promise<{ readonly roomId: RoomId; readonly powerLevels: unknown }>;
  /** The puppet turns an invitation down, saying why (a DM from someone it does not take them from). */
  declineInvite(roomId: RoomId, userId: UserId, reason: string): Promise<void>;
  /** Merges `content` into a user's global account data of `type` (puppets only). */
  updateAccountData(
    userId: UserId,
    type: string,
    update: (current: Record<string, unknown>) => Record<string, unknown>,
  ): Promise<void>;
  /** A state event of the room, sent by the bot (topic, join rules: the server API's settings). */
  setRoomState(roomId: RoomId, type: string, content: Record<string, unknown>): Promise<void>;
  /**
   * Lists the room in (or takes it off) the room directory: the appservice's own list always, the
   * server's public list where its publication rules allow the bot (false when they did not).
   */
  publishRoom(roomId: RoomId, listed: boolean): Promise<boolean>;
  /** Removes an alias of ours (a closed channel's); gone already is fine. */
  removeAlias(alias: string): Promise<void>;
  /** A puppet's presence, as Matrix users see it. */
  setPresence(
    userId: UserId,
    presence: "online" | "unavailable" | "offline",
    statusMsg?: string,
  ): Promise<void>;
  /** The bot invites a user (into invite-only rooms). */
  invite(roomId: RoomId, userId: UserId): Promise<void>;
  /** Redacts as the bot (slow mode), with a reason. */
  redactAsBot(roomId: RoomId, eventId: MatrixEventId, reason: string): Promise<void>;
  /** Registers the puppet once (idempotent, remembered across restarts). */
  ensurePuppet(userId: UserId): Promise<void>;
  setDisplayName(userId: UserId, displayName: string): Promise<void>;
  sendMessage(
    roomId: RoomId,
    userId: UserId,
    message: OutgoingMessage,
    mirroring: Mirroring,
  ): Promise<MatrixEventId>;
  /** Redacts an event as `userId`; returns the redaction's event id. */
  redact(
    roomId: RoomId,
    userId: UserId,
    eventId: MatrixEventId,
    mirroring: Mirroring,
    reason?: string,
  ): Promise<MatrixEventId>;
  /** An m.reaction annotation; returns its event id. */
  react(
    roomId: RoomId,
    userId: UserId,
    eventId: MatrixEventId,
    key: string,
    mirroring: Mirroring,
  ): Promise<MatrixEventId>;
  /** The newest events of a room (at most `limit`), looking for the one carrying `marker`. */
  findMarked(roomId: RoomId, marker: string, limit: number): Promise<MatrixEventId | undefined>;
  setTyping(roomId: RoomId, userId: UserId, typing: boolean, timeoutMs: number): Promise<void>;
  /** Marks `eventId` read for a puppet (an `m.read` receipt). */
  sendReceipt(roomId: RoomId, userId: UserId, eventId: MatrixEventId): Promise<void>;
  /** The pagination tokens around an event: `start` pages back from it, `end` forward. */
  eventContext(roomId: RoomId, eventId: MatrixEventId): Promise<{ start: string; end: string }>;
  /**
   * One page of room history read by the bot, parsed. `from` null starts at the newest event
   * (backwards) ; `next` is null when there is nothing more in that direction.
   */
  roomMessages(
    roomId: RoomId,
    from: string | null,
    direction: "b" | "f",
    limit: number,
  ): Promise<{ events: ParsedRoomEvent[]; next: string | null }>;
  /** Stores a file in the homeserver's content repository as `userId`; returns its mxc URI. */
  uploadMedia(userId: UserId, data: Buffer, mimeType: string, filename: string): Promise<string>;
  /** A file from the content repository, streamed, or undefined when there is none. */
  downloadMedia(mxc: string): Promise<DownloadedMedia | undefined>;
  /** A user's global profile, or undefined when the user does not exist. */
  getProfile(userId: UserId): Promise<Profile | undefined>;
}
