// Channels and their members.
import type { Async, ChannelStore, MemberStore } from "../../domain/ports/store.ts";
import {
  CHANNEL_COLUMNS,
  type ChannelRecord,
  MEMBER_COLUMNS,
  type MemberRecord,
  toChannel,
  toMember,
} from "../rows.ts";
import { type Db, named, type Statement } from "./db.ts";

// Text is sorted bytewise (COLLATE "C"), as SQLite does, whatever the database's locale.
const SQL = named("channels", {
  channelByName: `SELECT ${CHANNEL_COLUMNS} FROM channels c WHERE c.name = $1`,
  channelByRoom: `SELECT ${CHANNEL_COLUMNS} FROM channels c WHERE c.room_id = $1`,
  channelById: `SELECT ${CHANNEL_COLUMNS} FROM channels c WHERE c.id = $1`,
  allChannels: `SELECT ${CHANNEL_COLUMNS} FROM channels c ORDER BY c.id`,
  insertChannel:
    "INSERT INTO channels (name, room_id, alias, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
  setJoinRule: "UPDATE channels SET join_rule = $1 WHERE id = $2",
  setPowerLevels: "UPDATE channels SET power_levels = $1 WHERE id = $2",
  setTopic: "UPDATE channels SET topic = $1 WHERE id = $2",
  setRoomName: "UPDATE channels SET room_name = $1 WHERE id = $2",
  setRoomAvatar: "UPDATE channels SET avatar_url = $1 WHERE id = $2",
  setChannelCreator: "UPDATE channels SET creator = $1 WHERE id = $2",
  member: `SELECT ${MEMBER_COLUMNS} FROM members WHERE channel_id = $1 AND user_id = $2`,
  joinedMembers: `SELECT ${MEMBER_COLUMNS} FROM members WHERE channel_id = $1 AND membership = 'join'
    ORDER BY updated_at, user_id COLLATE "C"`,
  joinedCount: "SELECT COUNT(*) AS n FROM members WHERE channel_id = $1 AND membership = 'join'",
  seenMembers: `SELECT ${MEMBER_COLUMNS} FROM members WHERE channel_id = $1 AND membership != 'invite'
    ORDER BY COALESCE(last_seen, updated_at) DESC, user_id COLLATE "C" LIMIT $2`,
  lastKnownProfile:
    "SELECT display_name, avatar_url FROM members WHERE user_id = $1 ORDER BY updated_at DESC LIMIT 1",
  setMember: `INSERT INTO members AS m (channel_id, user_id, membership, display_name, avatar_url, updated_at, last_seen)
    VALUES ($1, $2, $3, $4, $5, $6, $6)
    ON CONFLICT (channel_id, user_id) DO UPDATE SET membership = excluded.membership,
      display_name = excluded.display_name, avatar_url = excluded.avatar_url, updated_at = excluded.updated_at,
      last_seen = GREATEST(COALESCE(m.last_seen, 0), excluded.last_seen)`,
  touchMember:
    "UPDATE members SET last_seen = GREATEST(COALESCE(last_seen, 0), $1) WHERE channel_id = $2 AND user_id = $3",
  touchJoinedMember:
    "UPDATE members SET last_seen = GREATEST(COALESCE(last_seen, 0), $1) WHERE user_id = $2 AND membership = 'join'",
  channelsJoinedBy: `SELECT ${CHANNEL_COLUMNS} FROM channels c
    JOIN members m ON m.channel_id = c.id WHERE m.user_id = $1 AND m.membership = 'join' ORDER BY c.name COLLATE "C"`,
});

export function channelQueries(db: Db): Async<ChannelStore & MemberStore> {
  const channel = async (statement: Statement, key: string | number) => {
    const row = await db.first<ChannelRecord>(statement, [key]);
    return row && toChannel(row);
  };
  const channels = async (statement: Statement, key?: string) =>
    (await db.rows<ChannelRecord>(statement, key === undefined ? [] : [key])).map(toChannel);
  const members = async (statement: Statement, ...values: number[]) =>
    (await db.rows<MemberRecord>(statement, values)).map(toMember);
  return {
    channelByName: (name) => channel(SQL.channelByName, name),
    channelByRoom: (roomId) => channel(SQL.channelByRoom, roomId),
    channelById: (id) => channel(SQL.channelById, id),
    allChannels: () => channels(SQL.allChannels),
    async insertChannel(name, roomId, alias) {
      await db.changes(SQL.insertChannel, [name, roomId, alias, Date.now()]);
      const row = await channel(SQL.channelByName, name);
      if (!row) throw new Error(`channel ${name} vanished while being inserted`);
      return row;
    },
    async setJoinRule(channelId, joinRule) {
      await db.changes(SQL.setJoinRule, [joinRule, channelId]);
    },
    async setTopic(channelId, topic) {
      await db.changes(SQL.setTopic, [topic, channelId]);
    },
    async setRoomName(channelId, name) {
      await db.changes(SQL.setRoomName, [name, channelId]);
    },
    async setRoomAvatar(channelId, avatarUrl) {
      await db.changes(SQL.setRoomAvatar, [avatarUrl, channelId]);
    },
    async setChannelCreator(channelId, creator) {
      await db.changes(SQL.setChannelCreator, [creator, channelId]);
    },
    async setPowerLevels(channelId, content) {
      await db.changes(SQL.setPowerLevels, [JSON.stringify(content), channelId]);
    },
    async member(channelId, userId) {
      const row = await db.first<MemberRecord>(SQL.member, [channelId, userId]);
      return row && toMember(row);
    },
    joinedMembers: (channelId) => members(SQL.joinedMembers, channelId),
    joinedCount: async (channelId) => (await db.first<{ n: number }>(SQL.joinedCount, [channelId]))?.n ?? 0,
    seenMembers: (channelId, limit) => members(SQL.seenMembers, channelId, limit),
    async lastKnownProfile(userId) {
      const row = await db.first<{ display_name: string | null; avatar_url: string | null }>(
        SQL.lastKnownProfile,
        [userId],
      );
      return row && { display_name: row.display_name, avatar_url: row.avatar_url };
    },
    async setMember(change) {
      await db.changes(SQL.setMember, [
        change.channelId,
        change.userId,
        change.membership,
        change.profile.display_name,
        change.profile.avatar_url,
        change.at,
      ]);
    },
    async touchMember(channelId, userId, at) {
      await db.changes(SQL.touchMember, [at, channelId, userId]);
    },
    async touchJoinedMember(userId, at) {
      await db.changes(SQL.touchJoinedMember, [at, userId]);
    },
    channelsJoinedBy: (userId) => channels(SQL.channelsJoinedBy, userId),
  };
}
