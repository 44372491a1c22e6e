// The default store: one SQLite file through better-sqlite3. Every call is synchronous, so a
// transaction can never interleave with another piece of work on the event loop.
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import type {
  ChannelRow,
  InboxEntry,
  InboxOutcome,
  MemberChange,
  MemberRow,
  NativeUserRow,
  NewEvent,
  Store,
  StoredEvent,
} from "../domain/store-port.ts";
import type { Membership, Profile } from "../protocol/events.ts";
import {
  asChannelName,
  asEventSeq,
  asMatrixEventId,
  asRoomId,
  asUserId,
  type ChannelName,
  type EventSeq,
  type MatrixEventId,
  type RoomId,
  type UserId,
} from "../protocol/ids.ts";
import { migrate } from "./migrate.ts";

interface ChannelRecord {
  id: number;
  name: string;
  room_id: string;
  alias: string;
  created_at: number;
}
const CHANNEL_COLUMNS = "id, name, room_id, alias, created_at";
const toChannel = (r: ChannelRecord): ChannelRow => ({
  id: r.id,
  name: asChannelName(r.name),
  roomId: asRoomId(r.room_id),
  alias: r.alias,
  createdAt: r.created_at,
});

interface NativeUserRecord {
  user_id: string;
  localpart: string;
  display_name: string | null;
  avatar_url: string | null;
  is_guest: number;
  matrix_display_name: string | null;
}
const toNativeUser = (r: NativeUserRecord): NativeUserRow => ({
  userId: asUserId(r.user_id),
  localpart: r.localpart,
  displayName: r.display_name,
  avatarUrl: r.avatar_url,
  isGuest: r.is_guest === 1,
  matrixDisplayName: r.matrix_display_name,
});

interface MemberRecord {
  user_id: string;
  membership: string;
  display_name: string | null;
  avatar_url: string | null;
  updated_at: number;
}
const toMember = (r: MemberRecord): MemberRow => ({
  userId: asUserId(r.user_id),
  membership: r.membership as Membership | "invite",
  displayName: r.display_name,
  avatarUrl: r.avatar_url,
  updatedAt: r.updated_at,
});

interface EventRecord {
  channel_id: number;
  seq: number;
  matrix_event_id: string;
  event_type: string;
  sender: string | null;
  content: string;
  ts: number;
}
const EVENT_COLUMNS = "channel_id, seq, matrix_event_id, event_type, sender, content, ts";
const toEvent = (r: EventRecord): StoredEvent => ({
  channelId: r.channel_id,
  seq: asEventSeq(r.seq),
  matrixEventId: asMatrixEventId(r.matrix_event_id),
  eventType: r.event_type,
  sender: r.sender === null ? null : asUserId(r.sender),
  content: JSON.parse(r.content) as unknown,
  ts: r.ts,
});

const SQL = {
  channelByName: `SELECT ${CHANNEL_COLUMNS} FROM channels WHERE name = ?`,
  channelByRoom: `SELECT ${CHANNEL_COLUMNS} FROM channels WHERE room_id = ?`,
  insertChannel:
    "INSERT INTO channels (name, room_id, alias, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
  nativeUser:
    "SELECT user_id, localpart, display_name, avatar_url, is_guest, matrix_display_name FROM native_users WHERE user_id = ?",
  insertNativeUser:
    "INSERT INTO native_users (user_id, localpart, is_guest, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
  setNativeProfile: "UPDATE native_users SET display_name = ?, avatar_url = ? WHERE user_id = ?",
  setMatrixDisplayName: "UPDATE native_users SET matrix_display_name = ? WHERE user_id = ?",
  member:
    "SELECT user_id, membership, display_name, avatar_url, updated_at FROM members WHERE channel_id = ? AND user_id = ?",
  joinedMembers:
    "SELECT user_id, membership, display_name, avatar_url, updated_at FROM members WHERE channel_id = ? AND membership = 'join' ORDER BY updated_at, user_id",
  lastKnownProfile:
    "SELECT display_name, avatar_url FROM members WHERE user_id = ? ORDER BY updated_at DESC LIMIT 1",
  setMember: `INSERT INTO members (channel_id, user_id, membership, display_name, avatar_url, updated_at)
    VALUES (@channelId, @userId, @membership, @displayName, @avatarUrl, @at)
    ON CONFLICT (channel_id, user_id) DO UPDATE SET membership = excluded.membership,
      display_name = excluded.display_name, avatar_url = excluded.avatar_url, updated_at = excluded.updated_at`,
  channelsJoinedBy: `SELECT c.id, c.name, c.room_id, c.alias, c.created_at FROM channels c
    JOIN members m ON m.channel_id = c.id WHERE m.user_id = ? AND m.membership = 'join' ORDER BY c.name`,
  maxSeq: "SELECT COALESCE(MAX(seq), 0) AS seq FROM events WHERE channel_id = ?",
  insertEvent: `INSERT INTO events (channel_id, seq, matrix_event_id, event_type, sender, content, ts)
    VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (matrix_event_id) DO NOTHING`,
  eventByMatrixId: `SELECT ${EVENT_COLUMNS} FROM events WHERE matrix_event_id = ?`,
  insertInbox:
    "INSERT INTO inbox (matrix_event_id, room_id, body, received_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
  pendingInbox:
    "SELECT id, matrix_event_id, room_id, body FROM inbox WHERE status = 'pending' ORDER BY id LIMIT ?",
  finishInbox: "UPDATE inbox SET status = ?, note = ? WHERE id = ?",
  isPuppetRegistered: "SELECT 1 FROM registered_puppets WHERE user_id = ?",
  addRegisteredPuppet: "INSERT INTO registered_puppets (user_id) VALUES (?) ON CONFLICT DO NOTHING",
} as const;

export function openSqliteStore(path: string): Store {
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  // FULL: an event we answered Synapse 200 for must survive a power cut, not only a crash.
  db.pragma("synchronous = FULL");
  db.pragma("foreign_keys = ON");
  db.pragma("busy_timeout = 5000");
  migrate(db);

  const q = Object.fromEntries(Object.entries(SQL).map(([name, sql]) => [name, db.prepare(sql)])) as Record<
    keyof typeof SQL,
    Database.Statement
  >;

  const channelByName = (name: ChannelName) => {
    const row = q.channelByName.get(name) as ChannelRecord | undefined;
    return row && toChannel(row);
  };
  const nativeUser = (userId: UserId) => {
    const row = q.nativeUser.get(userId) as NativeUserRecord | undefined;
    return row && toNativeUser(row);
  };
  const nextSeq = (channelId: number): EventSeq =>
    asEventSeq((q.maxSeq.get(channelId) as { seq: number }).seq + 1);

  const appendEvent = db.transaction((event: NewEvent): StoredEvent | undefined => {
    const seq = nextSeq(event.channelId);
    const result = q.insertEvent.run(
      event.channelId,
      seq,
      event.matrixEventId,
      event.eventType,
      event.sender,
      JSON.stringify(event.content),
      event.ts,
    );
    if (result.changes === 0) return undefined;
    return { ...event, seq };
  });

  const recordInbox = db.transaction(
    (events: ReadonlyArray<{ matrixEventId: string; roomId: string; body: unknown }>): number => {
      const now = Date.now();
      let added = 0;
      for (const e of events)
        added += q.insertInbox.run(e.matrixEventId, e.roomId, JSON.stringify(e.body), now).changes;
      return added;
    },
  );

  return {
    transaction: <T>(work: () => T): T => db.transaction(work)(),
    channelByName,
    channelByRoom(roomId: RoomId) {
      const row = q.channelByRoom.get(roomId) as ChannelRecord | undefined;
      return row && toChannel(row);
    },
    insertChannel(name, roomId, alias) {
      q.insertChannel.run(name, roomId, alias, Date.now());
      const row = channelByName(name);
      if (!row) throw new Error(`channel ${name} vanished while being inserted`);
      return row;
    },
    nativeUser,
    upsertNativeUser({ userId, localpart, isGuest }) {
      q.insertNativeUser.run(userId, localpart, isGuest ? 1 : 0, Date.now());
      const row = nativeUser(userId);
      if (!row) throw new Error(`user ${userId} vanished while being inserted`);
      return row;
    },
    setNativeProfile(userId: UserId, profile: Profile) {
      q.setNativeProfile.run(profile.display_name, profile.avatar_url, userId);
    },
    setMatrixDisplayName(userId, displayName) {
      q.setMatrixDisplayName.run(displayName, userId);
    },
    member(channelId, userId) {
      const row = q.member.get(channelId, userId) as MemberRecord | undefined;
      return row && toMember(row);
    },
    joinedMembers(channelId) {
      return (q.joinedMembers.all(channelId) as MemberRecord[]).map(toMember);
    },
    lastKnownProfile(userId) {
      const row = q.lastKnownProfile.get(userId) as
        | { display_name: string | null; avatar_url: string | null }
        | undefined;
      return row && { display_name: row.display_name, avatar_url: row.avatar_url };
    },
    setMember(change: MemberChange) {
      q.setMember.run({
        channelId: change.channelId,
        userId: change.userId,
        membership: change.membership,
        displayName: change.profile.display_name,
        avatarUrl: change.profile.avatar_url,
        at: change.at,
      });
    },
    channelsJoinedBy(userId) {
      return (q.channelsJoinedBy.all(userId) as ChannelRecord[]).map(toChannel);
    },
    appendEvent: (event) => appendEvent(event),
    eventByMatrixId(matrixEventId: MatrixEventId) {
      const row = q.eventByMatrixId.get(matrixEventId) as EventRecord | undefined;
      return row && toEvent(row);
    },
    nextSeq,
    recordInbox: (events) => recordInbox(events),
    pendingInbox(limit) {
      return (
        q.pendingInbox.all(limit) as Array<{
          id: number;
          matrix_event_id: string;
          room_id: string;
          body: string;
        }>
      ).map((r) => ({
        id: r.id,
        matrixEventId: r.matrix_event_id,
        roomId: r.room_id,
        body: JSON.parse(r.body) as unknown,
      }));
    },
    finishInbox(id: number, outcome: InboxOutcome, note?: string) {
      q.finishInbox.run(outcome, note ?? null, id);
    },
    isPuppetRegistered: (userId) => q.isPuppetRegistered.get(userId) !== undefined,
    addRegisteredPuppet(userId) {
      q.addRegisteredPuppet.run(userId);
    },
    close() {
      db.close();
    },
  } satisfies Store;
}

export type { InboxEntry };
