// Moderation state: channel settings, rules accepted, timeouts, karma, audiences, user status.
import type { Async, ModerationStore } from "../../domain/ports/store.ts";
import { asUserId } from "../../protocol/ids.ts";
import {
  CHANNEL_COLUMNS,
  type ChannelRecord,
  DEFAULT_SETTINGS,
  patchSettings,
  SETTINGS_COLUMNS,
  type SettingsRecord,
  TIMEOUT_COLUMNS,
  type TimeoutRecord,
  toChannel,
  toSettings,
  toTimeout,
} from "../rows.ts";
import { type Db, named } from "./db.ts";

const SQL = named("moderation", {
  settings: `SELECT ${SETTINGS_COLUMNS} FROM channel_settings WHERE channel_id = $1`,
  // A patch reads and writes the row under its lock, so patches from several nodes all land.
  ensureSettings: "INSERT INTO channel_settings (channel_id) VALUES ($1) ON CONFLICT DO NOTHING",
  lockSettings: `SELECT ${SETTINGS_COLUMNS} FROM channel_settings WHERE channel_id = $1 FOR UPDATE`,
  writeSettings: `UPDATE channel_settings SET slow_mode = $2, rules = $3, rules_required = $4, rules_version = $5,
    guests = $6, required_claim = $7, parent_channel_id = $8, media_review = $9, live = $10 WHERE channel_id = $1`,
  modChannelOf: `SELECT ${CHANNEL_COLUMNS} FROM channels c
    JOIN channel_settings s ON s.channel_id = c.id WHERE s.parent_channel_id = $1`,
  acceptRules: `INSERT INTO rules_accepted (channel_id, user_id, version) VALUES ($1, $2, $3)
    ON CONFLICT (channel_id, user_id) DO UPDATE SET version = excluded.version`,
  acceptedRulesVersion: "SELECT version FROM rules_accepted WHERE channel_id = $1 AND user_id = $2",
  putTimeout: `INSERT INTO timeouts (channel_id, user_id, until, previous_level, by, reason) VALUES ($1, $2, $3, $4, $5, $6)
    ON CONFLICT (channel_id, user_id) DO UPDATE SET until = excluded.until, by = excluded.by, reason = excluded.reason`,
  timeout: `SELECT ${TIMEOUT_COLUMNS} FROM timeouts WHERE channel_id = $1 AND user_id = $2`,
  removeTimeout: "DELETE FROM timeouts WHERE channel_id = $1 AND user_id = $2",
  removeTimeoutIfUntil: "DELETE FROM timeouts WHERE channel_id = $1 AND user_id = $2 AND until = $3",
  allTimeouts: `SELECT ${TIMEOUT_COLUMNS} FROM timeouts ORDER BY until`,
  channelTimeouts: `SELECT ${TIMEOUT_COLUMNS} FROM timeouts WHERE channel_id = $1 ORDER BY until`,
  addKarma: `INSERT INTO karma AS k (user_id, timeouts) VALUES ($1, 1)
    ON CONFLICT (user_id) DO UPDATE SET timeouts = k.timeouts + 1 RETURNING timeouts`,
  karma: "SELECT timeouts FROM karma WHERE user_id = $1",
  setAudience: `INSERT INTO audiences (channel_id, user_id, audience) VALUES ($1, $2, $3)
    ON CONFLICT (channel_id, user_id) DO UPDATE SET audience = excluded.audience`,
  removeAudience: "DELETE FROM audiences WHERE channel_id = $1 AND user_id = $2",
  audiences: `SELECT user_id, audience FROM audiences WHERE channel_id = $1 ORDER BY user_id COLLATE "C"`,
  userStatus: "SELECT banned, silenced FROM user_status WHERE user_id = $1",
  setUserStatus: `INSERT INTO user_status (user_id, banned, silenced, updated_at) VALUES ($1, $2, $3, $4)
    ON CONFLICT (user_id) DO UPDATE SET banned = excluded.banned, silenced = excluded.silenced,
      updated_at = excluded.updated_at`,
  setClaims: "UPDATE native_users SET claims = $1 WHERE user_id = $2",
  claims: "SELECT claims FROM native_users WHERE user_id = $1",
});

export function moderationQueries(db: Db): Async<ModerationStore> {
  const settings = async (channelId: number) =>
    (await db.first<SettingsRecord>(SQL.settings, [channelId])) ?? DEFAULT_SETTINGS;
  return {
    settings: async (channelId) => toSettings(await settings(channelId)),
    updateSettings: (channelId, patch) =>
      db.atomic(async () => {
        await db.changes(SQL.ensureSettings, [channelId]);
        const current = (await db.first<SettingsRecord>(SQL.lockSettings, [channelId])) ?? DEFAULT_SETTINGS;
        const next = patchSettings(current, patch);
        await db.changes(SQL.writeSettings, [
          channelId,
          next.slow_mode,
          next.rules,
          next.rules_required,
          next.rules_version,
          next.guests,
          next.required_claim,
          next.parent_channel_id,
          next.media_review,
          next.live === 1 || next.live === true,
        ]);
        return toSettings(next);
      }),
    async modChannelOf(parentChannelId) {
      const row = await db.first<ChannelRecord>(SQL.modChannelOf, [parentChannelId]);
      return row && toChannel(row);
    },
    async acceptRules(channelId, userId, version) {
      await db.changes(SQL.acceptRules, [channelId, userId, version]);
    },
    acceptedRulesVersion: async (channelId, userId) =>
      (await db.first<{ version: number }>(SQL.acceptedRulesVersion, [channelId, userId]))?.version,
    async putTimeout(row) {
      await db.changes(SQL.putTimeout, [
        row.channelId,
        row.userId,
        row.until,
        row.previousLevel,
        row.by,
        row.reason,
      ]);
    },
    async timeout(channelId, userId) {
      const row = await db.first<TimeoutRecord>(SQL.timeout, [channelId, userId]);
      return row && toTimeout(row);
    },
    removeTimeout: async (channelId, userId, onlyIfUntil) =>
      (onlyIfUntil === undefined
        ? await db.changes(SQL.removeTimeout, [channelId, userId])
        : await db.changes(SQL.removeTimeoutIfUntil, [channelId, userId, onlyIfUntil])) > 0,
    allTimeouts: async () => (await db.rows<TimeoutRecord>(SQL.allTimeouts)).map(toTimeout),
    channelTimeouts: async (channelId) =>
      (await db.rows<TimeoutRecord>(SQL.channelTimeouts, [channelId])).map(toTimeout),
    addKarma: async (userId) =>
      -((await db.first<{ timeouts: number }>(SQL.addKarma, [userId]))?.timeouts ?? 0),
    karma: async (userId) => -((await db.first<{ timeouts: number }>(SQL.karma, [userId]))?.timeouts ?? 0),
    async setAudience(channelId, userId, audience) {
      if (audience === null) await db.changes(SQL.removeAudience, [channelId, userId]);
      else await db.changes(SQL.setAudience, [channelId, userId, audience]);
    },
    audiences: async (channelId) =>
      new Map(
        (await db.rows<{ user_id: string; audience: string }>(SQL.audiences, [channelId])).map((r) => [
          asUserId(r.user_id),
          r.audience,
        ]),
      ),
    async userStatus(userId) {
      const row = await db.first<{ banned: boolean; silenced: boolean }>(SQL.userStatus, [userId]);
      return { banned: row?.banned === true, silenced: row?.silenced === true };
    },
    async setUserStatus(userId, status) {
      await db.changes(SQL.setUserStatus, [userId, status.banned, status.silenced, Date.now()]);
    },
    async setClaims(userId, claims) {
      await db.changes(SQL.setClaims, [JSON.stringify(claims), userId]);
    },
    async claims(userId) {
      const row = await db.first<{ claims: string | null }>(SQL.claims, [userId]);
      return row?.claims ? (JSON.parse(row.claims) as Record<string, unknown>) : undefined;
    },
  };
}
