// Channels and their members.
import type Database from "better-sqlite3";
import type { ChannelStore, MemberChange, MemberStore } from "../../domain/ports/store.ts";
import type { ChannelName, RoomId } from "../../protocol/ids.ts";
import {
  CHANNEL_COLUMNS,
  type ChannelRecord,
  MEMBER_COLUMNS,
  type MemberRecord,
  toChannel,
  toMember,
} from "../rows.ts";
import { prepareAll } from "./prepare.ts";

const SQL = {
  channelByName: `SELECT ${CHANNEL_COLUMNS} FROM channels c WHERE c.name = ?`,
  channelByRoom: `SELECT ${CHANNEL_COLUMNS} FROM channels c WHERE c.room_id = ?`,
  channelById: `SELECT ${CHANNEL_COLUMNS} FROM channels c WHERE c.id = ?`,
  allChannels: `SELECT ${CHANNEL_COLUMNS} FROM channels c ORDER BY c.id`,
  insertChannel:
    "INSERT INTO channels (name, room_id, alias, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
  setJoinRule: "UPDATE channels SET join_rule = ? WHERE id = ?",
  setPowerLevels: "UPDATE channels SET power_levels = ? WHERE id = ?",
  setTopic: "UPDATE channels SET topic = ? WHERE id = ?",
  setRoomName: "UPDATE channels SET room_name = ? WHERE id = ?",
  setRoomAvatar: "UPDATE channels SET avatar_url = ? WHERE id = ?",
  setChannelCreator: "UPDATE channels SET creator = ? WHERE id = ?",
  member: `SELECT ${MEMBER_COLUMNS} FROM members WHERE channel_id = ? AND user_id = ?`,
  joinedMembers: `SELECT ${MEMBER_COLUMNS} FROM members WHERE channel_id = ? AND membership = 'join' ORDER BY updated_at, user_id`,
  joinedCount: "SELECT COUNT(*) AS n FROM members WHERE channel_id = ? AND membership = 'join'",
  seenMembers: `SELECT ${MEMBER_COLUMNS} FROM members WHERE channel_id = ? AND membership != 'invite'
    ORDER BY COALESCE(last_seen, updated_at) DESC, user_id LIMIT ?`,
  lastKnownProfile:
    "SELECT display_name, avatar_url FROM members WHERE user_id = ? ORDER BY updated_at DESC LIMIT 1",
  setMember: `INSERT INTO members (channel_id, user_id, membership, display_name, avatar_url, updated_at, last_seen)
    VALUES (@channelId, @userId, @membership, @displayName, @avatarUrl, @at, @at)
    ON CONFLICT (channel_id, user_id) DO UPDATE SET membership = excluded.membership,
      display_name = excluded.display_name, avatar_url = excluded.avatar_url, updated_at = excluded.updated_at,
      last_seen = MAX(COALESCE(last_seen, 0), excluded.last_seen)`,
  touchMember:
    "UPDATE members SET last_seen = MAX(COALESCE(last_seen, 0), ?) WHERE channel_id = ? AND user_id = ?",
  touchJoinedMember:
    "UPDATE members SET last_seen = MAX(COALESCE(last_seen, 0), ?) WHERE user_id = ? AND membership = 'join'",
  channelsJoinedBy: `SELECT ${CHANNEL_COLUMNS} FROM channels c
    JOIN members m ON m.channel_id = c.id WHERE m.user_id = ? AND m.membership = 'join' ORDER BY c.name`,
} as const;

export function channelQueries(db: Database.Database): ChannelStore & MemberStore {
  const q = prepareAll(db, SQL);
  const one = (statement: Database.Statement, ...args: unknown[]) => {
    const row = statement.get(...args) as ChannelRecord | undefined;
    return row && toChannel(row);
  };
  const channelByName = (name: ChannelName) => one(q.channelByName, name);
  return {
    channelByName,
    channelByRoom: (roomId: RoomId) => one(q.channelByRoom, roomId),
    channelById: (id) => one(q.channelById, id),
    allChannels: () => (q.allChannels.all() as ChannelRecord[]).map(toChannel),
    insertChannel(name, roomId, alias) {
      q.insertChannel.run(name, roomId, alias, Date.now());
      const row = channelByName(name);
      if (!row) throw new Error(`channel ${name} vanished while being inserted`);
      return row;
    },
    setJoinRule(channelId, joinRule) {
      q.setJoinRule.run(joinRule, channelId);
    },
    setTopic(channelId, topic) {
      q.setTopic.run(topic, channelId);
    },
    setRoomName(channelId, name) {
      q.setRoomName.run(name, channelId);
    },
    setRoomAvatar(channelId, avatarUrl) {
      q.setRoomAvatar.run(avatarUrl, channelId);
    },
    setChannelCreator(channelId, creator) {
      q.setChannelCreator.run(creator, channelId);
    },
    setPowerLevels(channelId, content) {
      q.setPowerLevels.run(JSON.stringify(content), channelId);
    },
    member(channelId, userId) {
      const row = q.member.get(channelId, userId) as MemberRecord | undefined;
      return row && toMember(row);
    },
    joinedMembers: (channelId) => (q.joinedMembers.all(channelId) as MemberRecord[]).map(toMember),
    joinedCount: (channelId) => (q.joinedCount.get(channelId) as { n: number }).n,
    seenMembers: (channelId, limit) => (q.seenMembers.all(channelId, limit) as MemberRecord[]).map(toMember),
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
    touchMember(channelId, userId, at) {
      q.touchMember.run(at, channelId, userId);
    },
    touchJoinedMember(userId, at) {
      q.touchJoinedMember.run(at, userId);
    },
    channelsJoinedBy: (userId) => (q.channelsJoinedBy.all(userId) as ChannelRecord[]).map(toChannel),
  };
}
