// Moderation state: channel settings, rules accepted, timeouts, karma, audiences, user status.
import type Database from "better-sqlite3";
import type { ModerationStore } from "../../domain/ports/store.ts";
import { asUserId, type UserId } from "../../protocol/ids.ts";
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
import { prepareAll } from "./prepare.ts";

const SQL = {
  settings: `SELECT ${SETTINGS_COLUMNS} FROM channel_settings WHERE channel_id = ?`,
  upsertSettings: `INSERT INTO channel_settings (channel_id, slow_mode, rules, rules_required, rules_version, guests, required_claim, parent_channel_id, media_review, live)
    VALUES (@channel_id, @slow_mode, @rules, @rules_required, @rules_version, @guests, @required_claim, @parent_channel_id, @media_review, @live)
    ON CONFLICT (channel_id) DO UPDATE SET slow_mode = excluded.slow_mode, rules = excluded.rules,
      rules_required = excluded.rules_required, rules_version = excluded.rules_version, guests = excluded.guests,
      required_claim = excluded.required_claim, parent_channel_id = excluded.parent_channel_id,
      media_review = excluded.media_review, live = excluded.live`,
  modChannelOf: `SELECT ${CHANNEL_COLUMNS} FROM channels c
    JOIN channel_settings s ON s.channel_id = c.id WHERE s.parent_channel_id = ?`,
  acceptRules:
    "INSERT INTO rules_accepted (channel_id, user_id, version) VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET version = excluded.version",
  acceptedRulesVersion: "SELECT version FROM rules_accepted WHERE channel_id = ? AND user_id = ?",
  putTimeout: `INSERT INTO timeouts (channel_id, user_id, until, previous_level, by, reason) VALUES (?, ?, ?, ?, ?, ?)
    ON CONFLICT DO UPDATE SET until = excluded.until, by = excluded.by, reason = excluded.reason`,
  timeout: `SELECT ${TIMEOUT_COLUMNS} FROM timeouts WHERE channel_id = ? AND user_id = ?`,
  removeTimeout: "DELETE FROM timeouts WHERE channel_id = ? AND user_id = ?",
  removeTimeoutIfUntil: "DELETE FROM timeouts WHERE channel_id = ? AND user_id = ? AND until = ?",
  allTimeouts: `SELECT ${TIMEOUT_COLUMNS} FROM timeouts ORDER BY until`,
  channelTimeouts: `SELECT ${TIMEOUT_COLUMNS} FROM timeouts WHERE channel_id = ? ORDER BY until`,
  addKarma:
    "INSERT INTO karma (user_id, timeouts) VALUES (?, 1) ON CONFLICT DO UPDATE SET timeouts = timeouts + 1",
  karma: "SELECT timeouts FROM karma WHERE user_id = ?",
  setAudience:
    "INSERT INTO audiences (channel_id, user_id, audience) VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET audience = excluded.audience",
  removeAudience: "DELETE FROM audiences WHERE channel_id = ? AND user_id = ?",
  audiences: "SELECT user_id, audience FROM audiences WHERE channel_id = ?",
  userStatus: "SELECT banned, silenced FROM user_status WHERE user_id = ?",
  setUserStatus: `INSERT INTO user_status (user_id, banned, silenced, updated_at) VALUES (?, ?, ?, ?)
    ON CONFLICT DO UPDATE SET banned = excluded.banned, silenced = excluded.silenced, updated_at = excluded.updated_at`,
  setClaims: "UPDATE native_users SET claims = ? WHERE user_id = ?",
  claims: "SELECT claims FROM native_users WHERE user_id = ?",
} as const;

export function moderationQueries(db: Database.Database): ModerationStore {
  const q = prepareAll(db, SQL);
  const record = (channelId: number) =>
    (q.settings.get(channelId) as SettingsRecord | undefined) ?? DEFAULT_SETTINGS;
  const karma = (userId: UserId) =>
    -((q.karma.get(userId) as { timeouts: number } | undefined)?.timeouts ?? 0);
  return {
    settings: (channelId) => toSettings(record(channelId)),
    updateSettings(channelId, patch) {
      const next = patchSettings(record(channelId), patch);
      q.upsertSettings.run({ channel_id: channelId, ...next });
      return toSettings(next);
    },
    modChannelOf(parentChannelId) {
      const row = q.modChannelOf.get(parentChannelId) as ChannelRecord | undefined;
      return row && toChannel(row);
    },
    acceptRules(channelId, userId, version) {
      q.acceptRules.run(channelId, userId, version);
    },
    acceptedRulesVersion: (channelId, userId) =>
      (q.acceptedRulesVersion.get(channelId, userId) as { version: number } | undefined)?.version,
    putTimeout(row) {
      q.putTimeout.run(row.channelId, row.userId, row.until, row.previousLevel, row.by, row.reason);
    },
    timeout(channelId, userId) {
      const row = q.timeout.get(channelId, userId) as TimeoutRecord | undefined;
      return row && toTimeout(row);
    },
    removeTimeout(channelId, userId, onlyIfUntil) {
      const result =
        onlyIfUntil === undefined
          ? q.removeTimeout.run(channelId, userId)
          : q.removeTimeoutIfUntil.run(channelId, userId, onlyIfUntil);
      return result.changes > 0;
    },
    allTimeouts: () => (q.allTimeouts.all() as TimeoutRecord[]).map(toTimeout),
    channelTimeouts: (channelId) => (q.channelTimeouts.all(channelId) as TimeoutRecord[]).map(toTimeout),
    addKarma(userId) {
      q.addKarma.run(userId);
      return karma(userId);
    },
    karma,
    setAudience(channelId, userId, audience) {
      if (audience === null) q.removeAudience.run(channelId, userId);
      else q.setAudience.run(channelId, userId, audience);
    },
    audiences: (channelId) =>
      new Map(
        (q.audiences.all(channelId) as Array<{ user_id: string; audience: string }>).map((r) => [
          asUserId(r.user_id),
          r.audience,
        ]),
      ),
    userStatus(userId) {
      const row = q.userStatus.get(userId) as { banned: number; silenced: number } | undefined;
      return { banned: row?.banned === 1, silenced: row?.silenced === 1 };
    },
    setUserStatus(userId, status) {
      q.setUserStatus.run(userId, status.banned ? 1 : 0, status.silenced ? 1 : 0, Date.now());
    },
    setClaims(userId, claims) {
      q.setClaims.run(JSON.stringify(claims), userId);
    },
    claims(userId) {
      const row = q.claims.get(userId) as { claims: string | null } | undefined;
      return row?.claims ? (JSON.parse(row.claims) as Record<string, unknown>) : undefined;
    },
  };
}
