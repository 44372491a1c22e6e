// A recording fake of the Matrix port for the middle test tier: no homeserver, but answers the way
// Synapse does (room ids, event ids, power levels, 403s for the unjoined and the timed out,
// duplicate annotations, idempotent txnIds), and delivers the events it creates back to Parley as
// Synapse's transactions would (asynchronously, in order), including those of Matrix users the
// test plays (`asMatrixUser`). Every call is recorded; any call can be told to fail.
import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import type { MediaUrls } from "../../src/domain/media-urls.ts";
import {
  type MatrixPort,
  UpstreamRateLimitedError,
  UpstreamRejectedError,
  UpstreamUnavailableError,
} from "../../src/domain/ports/matrix.ts";
import type { ParsedRoomEvent } from "../../src/domain/room-events.ts";
import { MARKER_KEY } from "../../src/matrix/markers.ts";
import { buildMessageContent } from "../../src/matrix/message-build.ts";
import { parseRoomEvent } from "../../src/matrix/parse.ts";
import { roomCreationOptions } from "../../src/matrix/rooms.ts";
import type { Profile } from "../../src/protocol/events.ts";
import { asMatrixEventId, asRoomId, type MatrixEventId, type RoomId } from "../../src/protocol/ids.ts";

export type RawEvent = {
  event_id: string;
  room_id: string;
  sender: string;
  type: string;
  origin_server_ts: number;
  content: Record<string, unknown>;
  state_key?: string;
  redacts?: string;
};

interface Room {
  readonly id: RoomId;
  readonly alias: string | undefined;
  readonly members: Map<string, string>;
  powerLevels: Record<string, unknown> & { users?: Record<string, number> };
  joinRule: string;
  readonly events: RawEvent[];
}

export interface Call {
  readonly method: string;
  readonly args: readonly unknown[];
}

type Failure = () => Error;

/** How an event is made: state key, what it redacts, and for outbox entries time and marker. */
interface Emit {
  readonly stateKey?: string | undefined;
  readonly redacts?: string | undefined;
  readonly ts?: number | undefined;
  readonly marker?: string | undefined;
}
type Stamp = Pick<Emit, "ts" | "marker">;

const forbidden = (message: string) => new UpstreamRejectedError("M_FORBIDDEN", 403, message);

export class FakeMatrix {
  readonly calls: Call[] = [];
  readonly typing: Array<{ roomId: string; userId: string; typing: boolean }> = [];
  readonly receipts: Array<{ roomId: string; userId: string; eventId: string }> = [];
  readonly accountData = new Map<string, Record<string, unknown>>();
  /** Rooms listed in the room directory. */
  readonly published = new Set<string>();
  /** Puppets' presence as last set. */
  readonly presence = new Map<string, string>();
  /** While true, every call fails as if the homeserver were down. */
  unavailable = false;
  /** Every call is answered this much later (a busy homeserver); see `mostInFlightPerRoom`. */
  answerAfterMs = 0;
  /** The most calls that were in flight at once for any one room while answers were slow. */
  mostInFlightPerRoom = 0;
  readonly #inFlight = new Map<unknown, number>();
  readonly #serverName: string;
  readonly #botUserId: string;
  readonly #media: MediaUrls;
  readonly #rooms = new Map<string, Room>();
  readonly #aliases = new Map<string, RoomId>();
  readonly #profiles = new Map<string, Profile>();
  readonly #files = new Map<string, { data: Buffer; contentType: string }>();
  readonly #txns = new Map<string, MatrixEventId>();
  readonly #failures = new Map<string, Failure[]>();
  readonly #lostAnswers = new Map<string, number>();
  readonly #listeners: Array<(events: RawEvent[]) => Promise<void>> = [];
  #pending: RawEvent[] = [];
  #held = false;
  #flushing: Promise<void> | undefined;
  #clock = Date.now();
  #counter = 0;

  constructor(options: { serverName: string; botUserId: string; media: MediaUrls }) {
    this.#serverName = options.serverName;
    this.#botUserId = options.botUserId;
    this.#media = options.media;
  }

  /** Synapse's transactions: every event the fake creates reaches these listeners, in order. */
  onEvents(listener: (events: RawEvent[]) => Promise<void>): void {
    this.#listeners.push(listener);
  }

  /** Events are made but not delivered until `releaseDeliveries` (a slow appservice stream). */
  holdDeliveries(): void {
    this.#held = true;
  }

  releaseDeliveries(): void {
    this.#held = false;
    if (this.#pending.length > 0) this.#flushing ??= this.#deliverSoon();
  }

  /** Resolves once every event created so far has been delivered. */
  async delivered(): Promise<void> {
    while (this.#flushing) await this.#flushing;
  }

  /** The next `times` calls of `method` ("*" for any) fail with the error `make` returns. */
  failNext(method: string, make: Failure, times = 1): void {
    const list = this.#failures.get(method) ?? [];
    for (let i = 0; i < times; i++) list.push(make);
    this.#failures.set(method, list);
  }

  /**
   * The next `times` calls of `method` do their work, but the answer is lost on the way back (a
   * timeout, or Parley dying before recording it): the caller sees the homeserver unreachable.
   */
  loseNextAnswer(method: string, times = 1): void {
    this.#lostAnswers.set(method, (this.#lostAnswers.get(method) ?? 0) + times);
  }

  static rateLimited(retryAfterMs = 500): Failure {
    return () => new UpstreamRateLimitedError(retryAfterMs);
  }

  static refused(status = 403, errcode = "M_FORBIDDEN"): Failure {
    return () => new UpstreamRejectedError(errcode, status, `refused (${status})`);
  }

  callsOf(method: string): Call[] {
    return this.calls.filter((c) => c.method === method);
  }

  room(roomId: string): {
    members: ReadonlyMap<string, string>;
    powerLevels: unknown;
    events: readonly RawEvent[];
  } {
    const room = this.#rooms.get(roomId);
    if (!room) throw new Error(`no room ${roomId}`);
    return room;
  }

  /** Events of a room a Matrix client would see as messages (type, sender, body). */
  messages(roomId: string): Array<{ sender: string; body: unknown; event_id: string }> {
    return this.room(roomId)
      .events.filter((e) => e.type === "m.room.message")
      .map((e) => ({ sender: e.sender, body: e.content.body, event_id: e.event_id }));
  }

  /** Acts as an ordinary Matrix user (as Element would), through the same rules. */
  asMatrixUser(userId: string, displayName: string) {
    this.#profiles.set(userId, { display_name: displayName, avatar_url: null });
    return {
      join: (roomIdOrAlias: string) => {
        const roomId = roomIdOrAlias.startsWith("#") ? this.#aliases.get(roomIdOrAlias) : roomIdOrAlias;
        if (!roomId) throw new UpstreamRejectedError("M_NOT_FOUND", 404, "no such alias");
        this.#join(this.#roomOf(roomId), userId, { display_name: displayName, avatar_url: null });
        return roomId;
      },
      leave: (roomId: string) => this.#setMembership(this.#roomOf(roomId), userId, userId, "leave"),
      send: (roomId: string, content: Record<string, unknown>) => {
        const room = this.#roomOf(roomId);
        this.#checkCanSend(room, userId);
        return this.#emit(room, userId, "m.room.message", content).event_id;
      },
      react: (roomId: string, eventId: string, key: string) => {
        const room = this.#roomOf(roomId);
        this.#checkCanSend(room, userId);
        this.#checkRelatesTo(room, eventId);
        return this.#emit(room, userId, "m.reaction", {
          "m.relates_to": { rel_type: "m.annotation", event_id: eventId, key },
        }).event_id;
      },
      redact: (roomId: string, eventId: string) => this.#redact(this.#roomOf(roomId), userId, eventId),
      kick: (roomId: string, target: string, reason?: string) =>
        this.#moderate(this.#roomOf(roomId), userId, "kick", target, reason),
      ban: (roomId: string, target: string, reason?: string) =>
        this.#moderate(this.#roomOf(roomId), userId, "ban", target, reason),
      setPowerLevel: (roomId: string, target: string, level: number) => {
        const room = this.#roomOf(roomId);
        if (this.#level(room, userId) < 100) throw forbidden("not allowed to change power levels");
        this.#setLevel(room, userId, target, level);
      },
      setTopic: (roomId: string, topic: string) =>
        this.#emit(this.#roomOf(roomId), userId, "m.room.topic", { topic }, { stateKey: "" }),
    };
  }

  /** The port Parley is given. Each method records its call, then fails if told to. */
  port(): MatrixPort {
    const call = <T>(method: string, args: unknown[], work: () => T): Promise<Awaited<T>> => {
      this.calls.push({ method, args });
      const failure = this.#failures.get(method)?.shift() ?? this.#failures.get("*")?.shift();
      if (failure) return Promise.reject(failure());
      if (this.unavailable) return Promise.reject(new UpstreamUnavailableError("homeserver unreachable"));
      if (this.answerAfterMs > 0) return this.#slowly(args[0], () => call2(method, work));
      return call2(method, work);
    };
    const call2 = <T>(method: string, work: () => T): Promise<Awaited<T>> => {
      try {
        const result = work();
        const lost = this.#lostAnswers.get(method) ?? 0;
        if (lost > 0) {
          this.#lostAnswers.set(method, lost - 1);
          return Promise.reject(new UpstreamUnavailableError("the answer was lost"));
        }
        return Promise.resolve(result) as Promise<Awaited<T>>;
      } catch (error) {
        return Promise.reject(error);
      }
    };
    return {
      ensureRoom: (aliasLocalpart, name, options = {}) =>
        call("ensureRoom", [aliasLocalpart, name, options], () => {
          const alias = `#${aliasLocalpart}:${this.#serverName}`;
          const existing = this.#aliases.get(alias);
          if (existing) return { roomId: existing };
          const creation = roomCreationOptions(name, options.visibility ?? "public", options.owner);
          const powerLevels = creation.power_level_content_override as Room["powerLevels"];
          const room = this.#createRoom(
            this.#botUserId,
            alias,
            powerLevels,
            options.visibility === "private" ? "invite" : "public",
          );
          return { roomId: room.id, powerLevels };
        }),
      setPowerLevel: (roomId, userId, level, actor) =>
        call("setPowerLevel", [roomId, userId, level, actor ?? null], () => {
          const room = this.#roomOf(roomId);
          return this.#setLevel(room, actor ?? this.#botUserId, userId, level);
        }),
      setMembership: (roomId, actor, target, change, mirroring) =>
        call("setMembership", [roomId, actor, target, change, mirroring], () => {
          const room = this.#roomOf(roomId);
          const sender = actor ?? this.#botUserId;
          const stamp = { ts: mirroring.ts, marker: mirroring.marker };
          if (change.membership === "join") {
            if (sender !== target) throw forbidden("cannot join someone else");
            return asMatrixEventId(this.#join(room, target, change.profile, stamp));
          }
          if (sender !== target) {
            const now = room.members.get(target);
            const action = change.membership === "ban" ? "ban" : now === "ban" ? "unban" : "kick";
            return asMatrixEventId(this.#moderate(room, sender, action, target, change.reason, stamp));
          }
          if (room.members.get(target) !== "join" && room.members.get(target) !== "invite") {
            throw forbidden(`${target} is not in the room`);
          }
          return asMatrixEventId(this.#setMembership(room, target, target, "leave", undefined, stamp));
        }),
      findMarked: (roomId, marker, limit) =>
        call("findMarked", [roomId, marker, limit], () => {
          const found = this.#roomOf(roomId)
            .events.slice(-limit)
            .find((e) => e.content[MARKER_KEY] === marker);
          return found && asMatrixEventId(found.event_id);
        }),
      createDirectRoom: (creator, others) =>
        call("createDirectRoom", [creator, others], () => {
          // As Synapse makes it: no alias, no bot; the creator owns it and invites the others.
          // (Synapse keeps a v12 creator out of the levels; the fake models its power as 100.)
          const room = this.#createRoom(creator, undefined, { users: { [creator]: 100 } }, "invite");
          for (const other of others) this.#setMembership(room, creator, other, "invite");
          return { roomId: room.id, powerLevels: {} };
        }),
      declineInvite: (roomId, userId, reason) =>
        call("declineInvite", [roomId, userId, reason], () => {
          this.#setMembership(this.#roomOf(roomId), userId, userId, "leave");
        }),
      updateAccountData: (userId, type, update) =>
        call("updateAccountData", [userId, type], () => {
          const key = `${userId}\n${type}`;
          this.accountData.set(key, update(this.accountData.get(key) ?? {}));
        }),
      setRoomState: (roomId, type, content) =>
        call("setRoomState", [roomId, type, content], () => {
          const room = this.#roomOf(roomId);
          if (type === "m.room.join_rules" && typeof content.join_rule === "string")
            room.joinRule = content.join_rule;
          this.#emit(room, this.#botUserId, type, content, { stateKey: "" });
        }),
      setPresence: (userId, presence, statusMsg) =>
        call("setPresence", [userId, presence, statusMsg ?? null], () => {
          this.presence.set(userId, presence);
        }),
      publishRoom: (roomId, listed) =>
        call("publishRoom", [roomId, listed], () => {
          if (listed) this.published.add(roomId);
          else this.published.delete(roomId);
          return true;
        }),
      removeAlias: (alias) =>
        call("removeAlias", [alias], () => {
          this.#aliases.delete(alias);
        }),
      invite: (roomId, userId) =>
        call("invite", [roomId, userId], () => {
          const room = this.#roomOf(roomId);
          const now = room.members.get(userId);
          if (now === "join" || now === "invite") return;
          // The bot invites where it is in the room; elsewhere (direct rooms) a member does.
          const inviter =
            room.members.get(this.#botUserId) === "join"
              ? this.#botUserId
              : [...room.members].find(([, membership]) => membership === "join")?.[0];
          if (!inviter) throw forbidden("nobody in the room to invite");
          this.#setMembership(room, inviter, userId, "invite");
        }),
      redactAsBot: (roomId, eventId, reason) =>
        call("redactAsBot", [roomId, eventId, reason], () => {
          this.#emit(
            this.#roomOf(roomId),
            this.#botUserId,
            "m.room.redaction",
            { redacts: eventId, reason },
            { redacts: eventId },
          );
        }),
      ensurePuppet: (userId) => call("ensurePuppet", [userId], () => undefined),
      setDisplayName: (userId, displayName) =>
        call("setDisplayName", [userId, displayName], () => {
          this.#profiles.set(userId, { display_name: displayName, avatar_url: null });
          // Synapse rewrites the member event in every room the user is in.
          for (const room of this.#rooms.values()) {
            if (room.members.get(userId) === "join") {
              this.#emit(
                room,
                userId,
                "m.room.member",
                { membership: "join", displayname: displayName },
                { stateKey: userId },
              );
            }
          }
        }),
      sendMessage: (roomId, userId, message, mirroring) =>
        call("sendMessage", [roomId, userId, message, mirroring], () =>
          this.#once(mirroring.txnId, () => {
            const room = this.#roomOf(roomId);
            this.#checkCanSend(room, userId);
            if (message.replaces !== undefined) this.#checkRelatesTo(room, message.replaces);
            return this.#emit(room, userId, "m.room.message", buildMessageContent(message, this.#media), {
              ts: mirroring.ts,
              marker: mirroring.marker,
            }).event_id;
          }),
        ),
      // Like Synapse, the redaction does not take the original time (`ts`).
      redact: (roomId, userId, eventId, mirroring, reason) =>
        call("redact", [roomId, userId, eventId, mirroring, reason], () =>
          this.#once(mirroring.txnId, () =>
            this.#redact(this.#roomOf(roomId), userId, eventId, reason, mirroring.marker),
          ),
        ),
      react: (roomId, userId, eventId, key, mirroring) =>
        call("react", [roomId, userId, eventId, key, mirroring], () =>
          this.#once(mirroring.txnId, () => {
            const room = this.#roomOf(roomId);
            this.#checkCanSend(room, userId);
            this.#checkRelatesTo(room, eventId);
            const duplicate = room.events.some(
              (e) =>
                e.type === "m.reaction" &&
                e.sender === userId &&
                JSON.stringify(e.content["m.relates_to"]) ===
                  JSON.stringify({ rel_type: "m.annotation", event_id: eventId, key }),
            );
            if (duplicate)
              throw new UpstreamRejectedError("M_DUPLICATE_ANNOTATION", 400, "duplicate annotation");
            return this.#emit(
              room,
              userId,
              "m.reaction",
              { "m.relates_to": { rel_type: "m.annotation", event_id: eventId, key } },
              { ts: mirroring.ts, marker: mirroring.marker },
            ).event_id;
          }),
        ),
      setTyping: (roomId, userId, typing) =>
        call("setTyping", [roomId, userId, typing], () => {
          this.typing.push({ roomId, userId, typing });
        }),
      sendReceipt: (roomId, userId, eventId) =>
        call("sendReceipt", [roomId, userId, eventId], () => {
          this.receipts.push({ roomId, userId, eventId });
        }),
      eventContext: (roomId, eventId) =>
        call("eventContext", [roomId, eventId], () => {
          const index = this.#roomOf(roomId).events.findIndex((e) => e.event_id === eventId);
          if (index < 0) throw new UpstreamRejectedError("M_NOT_FOUND", 404, "no such event");
          return { start: `t${index}`, end: `t${index + 1}` };
        }),
      roomMessages: (roomId, from, direction, limit) =>
        call("roomMessages", [roomId, from, direction, limit], () => {
          const events = this.#roomOf(roomId).events;
          const at = from === null ? (direction === "b" ? events.length : 0) : Number(from.slice(1));
          const slice =
            direction === "b"
              ? events.slice(Math.max(0, at - limit), at).reverse()
              : events.slice(at, at + limit);
          const next = direction === "b" ? Math.max(0, at - limit) : at + slice.length;
          const parsed: ParsedRoomEvent[] = slice.map((raw) => parseRoomEvent(raw, this.#media));
          return { events: parsed, next: slice.length === 0 ? null : `t${next}` };
        }),
      uploadMedia: (userId, data, mimeType, filename) =>
        call("uploadMedia", [userId, mimeType, filename], () => {
          const id = randomBytes(12).toString("hex");
          this.#files.set(id, { data, contentType: mimeType });
          return `mxc://${this.#serverName}/${id}`;
        }),
      downloadMedia: (mxc) =>
        call("downloadMedia", [mxc], () => {
          const file = this.#files.get(mxc.split("/").at(-1) ?? "");
          return (
            file && {
              stream: Readable.from([file.data]),
              contentType: file.contentType,
              size: file.data.length,
            }
          );
        }),
      getProfile: (userId) => call("getProfile", [userId], () => this.#profiles.get(userId)),
    };
  }

  async #slowly<T>(room: unknown, answer: () => Promise<T>): Promise<T> {
    const now = (this.#inFlight.get(room) ?? 0) + 1;
    this.#inFlight.set(room, now);
    this.mostInFlightPerRoom = Math.max(this.mostInFlightPerRoom, now);
    try {
      await new Promise((resolve) => setTimeout(resolve, this.answerAfterMs));
      return await answer();
    } finally {
      this.#inFlight.set(room, (this.#inFlight.get(room) ?? 1) - 1);
    }
  }

  #roomOf(roomId: string): Room {
    const room = this.#rooms.get(roomId);
    if (!room) throw new UpstreamRejectedError("M_NOT_FOUND", 404, `no room ${roomId}`);
    return room;
  }

  #level(room: Room, userId: string): number {
    if (userId === this.#botUserId) return Number.POSITIVE_INFINITY;
    return room.powerLevels.users?.[userId] ?? Number(room.powerLevels.users_default ?? 0);
  }

  #checkCanSend(room: Room, userId: string): void {
    if (room.members.get(userId) !== "join") throw forbidden(`${userId} not in room ${room.id}`);
    if (this.#level(room, userId) < Number(room.powerLevels.events_default ?? 0)) {
      throw forbidden("power level too low to send");
    }
  }

  /** Synapse refuses relations (reactions, edits, replies) to events it does not know. */
  #checkRelatesTo(room: Room, eventId: string): void {
    if (!room.events.some((e) => e.event_id === eventId)) {
      throw new UpstreamRejectedError("M_UNKNOWN", 400, "Can't send relation to unknown event");
    }
  }

  /** One's own events, or anyone's with the power to redact. */
  #redact(room: Room, userId: string, eventId: string, reason?: string, marker?: string): string {
    const target = room.events.find((e) => e.event_id === eventId);
    if (!target) throw new UpstreamRejectedError("M_NOT_FOUND", 404, "no such event");
    const redactLevel = Number(room.powerLevels.redact ?? 50);
    if (target.sender !== userId && this.#level(room, userId) < redactLevel) throw forbidden("cannot redact");
    const content = { redacts: eventId, ...(reason ? { reason } : {}) };
    return this.#emit(room, userId, "m.room.redaction", content, { redacts: eventId, marker }).event_id;
  }

  /** Idempotency by txnId, as Synapse keeps it (ignoring which user sends). */
  #once(txnId: string, work: () => string): MatrixEventId {
    const known = this.#txns.get(txnId);
    if (known) return known;
    const id = asMatrixEventId(work());
    this.#txns.set(txnId, id);
    return id;
  }

  #createRoom(
    creator: string,
    alias: string | undefined,
    powerLevels: Room["powerLevels"],
    joinRule: string,
  ): Room {
    const room: Room = {
      id: asRoomId(`!${randomBytes(9).toString("base64url")}:${this.#serverName}`),
      alias,
      members: new Map(),
      // What every room Parley creates starts with (src/matrix/rooms.ts), then this room's own.
      powerLevels: { ...(roomCreationOptions("x").power_level_content_override as object), ...powerLevels },
      joinRule,
      events: [],
    };
    this.#rooms.set(room.id, room);
    if (alias) this.#aliases.set(alias, room.id);
    // The creator is in the room from the start, whatever its join rule.
    room.members.set(creator, "invite");
    this.#join(room, creator, this.#profiles.get(creator) ?? { display_name: null, avatar_url: null });
    this.#emit(room, creator, "m.room.power_levels", room.powerLevels, { stateKey: "" });
    this.#emit(room, creator, "m.room.join_rules", { join_rule: joinRule }, { stateKey: "" });
    if (alias) this.#emit(room, creator, "m.room.canonical_alias", { alias }, { stateKey: "" });
    return room;
  }

  #join(room: Room, userId: string, profile: Profile, stamp: Stamp = {}): string {
    const now = room.members.get(userId);
    if (now === "ban") throw forbidden(`${userId} is banned from the room`);
    if (room.joinRule !== "public" && now !== "invite" && now !== "join" && userId !== this.#botUserId) {
      throw forbidden("You are not invited to this room.");
    }
    room.members.set(userId, "join");
    return this.#emit(
      room,
      userId,
      "m.room.member",
      {
        membership: "join",
        displayname: profile.display_name,
        ...(profile.avatar_url ? { avatar_url: profile.avatar_url } : {}),
      },
      { stateKey: userId, ...stamp },
    ).event_id;
  }

  #setMembership(
    room: Room,
    sender: string,
    target: string,
    membership: string,
    reason?: string,
    stamp: Stamp = {},
  ): string {
    room.members.set(target, membership);
    const content = { membership, ...(reason ? { reason } : {}) };
    return this.#emit(room, sender, "m.room.member", content, { stateKey: target, ...stamp }).event_id;
  }

  #moderate(
    room: Room,
    actor: string,
    action: "kick" | "ban" | "unban",
    target: string,
    reason?: string,
    stamp: Stamp = {},
  ): string {
    const needed = Number(room.powerLevels[action === "kick" ? "kick" : "ban"] ?? 50);
    if (this.#level(room, actor) < needed) throw forbidden(`not allowed to ${action}`);
    const now = room.members.get(target);
    if (action === "kick" && now !== "join" && now !== "invite")
      throw forbidden("The target user is not in the room");
    if (action === "unban" && now !== "ban")
      throw new UpstreamRejectedError("M_BAD_STATE", 400, "not banned");
    return this.#setMembership(room, actor, target, action === "ban" ? "ban" : "leave", reason, stamp);
  }

  #setLevel(room: Room, sender: string, userId: string, level: number | null): Record<string, unknown> {
    const users = { ...(room.powerLevels.users ?? {}) };
    if (level === null) delete users[userId];
    else users[userId] = level;
    room.powerLevels = { ...room.powerLevels, users };
    this.#emit(room, sender, "m.room.power_levels", room.powerLevels, { stateKey: "" });
    return room.powerLevels;
  }

  #emit(
    room: Room,
    sender: string,
    type: string,
    content: Record<string, unknown>,
    options: Emit = {},
  ): RawEvent {
    const { stateKey, redacts, ts, marker } = options;
    this.#clock = Math.max(this.#clock + 1, Date.now());
    const event: RawEvent = {
      event_id: `$fake${++this.#counter}_${randomBytes(4).toString("hex")}`,
      room_id: room.id,
      sender,
      type,
      // An appservice's `ts` is taken as the event's time (timestamp massaging).
      origin_server_ts: ts ?? this.#clock,
      content: marker === undefined ? content : { ...content, [MARKER_KEY]: marker },
      ...(stateKey === undefined ? {} : { state_key: stateKey }),
      ...(redacts === undefined ? {} : { redacts }),
    };
    room.events.push(event);
    this.#pending.push(event);
    if (!this.#held) this.#flushing ??= this.#deliverSoon();
    return event;
  }

  /** Like Synapse: echoes arrive after the request that made them has been answered. */
  async #deliverSoon(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    while (this.#pending.length > 0) {
      const batch = this.#pending.splice(0, 100);
      for (const listener of this.#listeners) await listener(batch);
      await new Promise((resolve) => setImmediate(resolve));
    }
    this.#flushing = undefined;
  }
}
