// Native users, registered puppets, read pointers and send idempotency.
import type Database from "better-sqlite3";
import type { NativeUserRow, Store } from "../../domain/store-port.ts";
import { asMatrixEventId, asUserId, type UserId } from "../../protocol/ids.ts";
import { prepareAll } from "./prepare.ts";

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

const SQL = {
  nativeUser:
    "SELECT user_id, localpart, display_name, avatar_url, is_guest, matrix_display_name FROM native_users WHERE user_id = ?",
  insertNativeUser:
    "INSERT INTO native_users (user_id, localpart, is_guest, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
  setNativeProfile: "UPDATE native_users SET display_name = ?, avatar_url = ? WHERE user_id = ?",
  setMatrixDisplayName: "UPDATE native_users SET matrix_display_name = ? WHERE user_id = ?",
  isPuppetRegistered: "SELECT 1 FROM registered_puppets WHERE user_id = ?",
  addRegisteredPuppet: "INSERT INTO registered_puppets (user_id) VALUES (?) ON CONFLICT DO NOTHING",
  readPointers: "SELECT channel_id, seq FROM read_pointers WHERE user_id = ?",
  readPointer: "SELECT seq FROM read_pointers WHERE user_id = ? AND channel_id = ?",
  advanceReadPointer: `INSERT INTO read_pointers (user_id, channel_id, seq, updated_at) VALUES (?, ?, ?, ?)
    ON CONFLICT (user_id, channel_id) DO UPDATE SET seq = excluded.seq, updated_at = excluded.updated_at
    WHERE excluded.seq > read_pointers.seq`,
  sentTxn: "SELECT matrix_event_id FROM sent_txns WHERE user_id = ? AND channel_id = ? AND txn_id = ?",
  recordSentTxn:
    "INSERT INTO sent_txns (user_id, channel_id, txn_id, matrix_event_id, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
} as const;

export type UserQueries = Pick<
  Store,
  | "nativeUser"
  | "upsertNativeUser"
  | "setNativeProfile"
  | "setMatrixDisplayName"
  | "isPuppetRegistered"
  | "addRegisteredPuppet"
  | "readPointers"
  | "readPointer"
  | "advanceReadPointer"
  | "sentTxn"
  | "recordSentTxn"
>;

export function userQueries(db: Database.Database): UserQueries {
  const q = prepareAll(db, SQL);
  const nativeUser = (userId: UserId) => {
    const row = q.nativeUser.get(userId) as NativeUserRecord | undefined;
    return row && toNativeUser(row);
  };
  return {
    nativeUser,
    upsertNativeUser({ userId, localpart, isGuest }) {
      q.insertNativeUser.run(userId, localpart, isGuest ? 1 : 0, Date.now());
      const row = nativeUser(userId);
      if (!row) throw new Error(`user ${userId} vanished while being inserted`);
      return row;
    },
    setNativeProfile(userId, profile) {
      q.setNativeProfile.run(profile.display_name, profile.avatar_url, userId);
    },
    setMatrixDisplayName(userId, displayName) {
      q.setMatrixDisplayName.run(displayName, userId);
    },
    isPuppetRegistered: (userId) => q.isPuppetRegistered.get(userId) !== undefined,
    addRegisteredPuppet(userId) {
      q.addRegisteredPuppet.run(userId);
    },
    readPointers: (userId) =>
      (q.readPointers.all(userId) as Array<{ channel_id: number; seq: number }>).map((r) => ({
        channelId: r.channel_id,
        seq: r.seq,
      })),
    readPointer: (userId, channelId) =>
      (q.readPointer.get(userId, channelId) as { seq: number } | undefined)?.seq,
    advanceReadPointer: (userId, channelId, seq, at) =>
      q.advanceReadPointer.run(userId, channelId, seq, at).changes > 0,
    sentTxn(userId, channelId, txnId) {
      const row = q.sentTxn.get(userId, channelId, txnId) as { matrix_event_id: string } | undefined;
      return row && asMatrixEventId(row.matrix_event_id);
    },
    recordSentTxn(userId, channelId, txnId, matrixEventId) {
      q.recordSentTxn.run(userId, channelId, txnId, matrixEventId, Date.now());
    },
  };
}
