-- why: moderation: per-channel settings (slow mode, rules, join policy, the parent of a moderator
-- channel), rule acceptance, timeouts that outlive a restart, karma, audiences, platform-wide bans
-- and silences, and the JWT claims a join policy is checked against.
CREATE TABLE channel_settings (
  channel_id INTEGER PRIMARY KEY REFERENCES channels(id),
  slow_mode INTEGER NOT NULL DEFAULT 0,
  rules TEXT,
  rules_required INTEGER NOT NULL DEFAULT 0,
  rules_version INTEGER NOT NULL DEFAULT 0,
  guests INTEGER NOT NULL DEFAULT 1,
  required_claim TEXT,
  parent_channel_id INTEGER REFERENCES channels(id)
);

CREATE TABLE rules_accepted (
  channel_id INTEGER NOT NULL REFERENCES channels(id),
  user_id TEXT NOT NULL,
  version INTEGER NOT NULL,
  PRIMARY KEY (channel_id, user_id)
) WITHOUT ROWID;

CREATE TABLE timeouts (
  channel_id INTEGER NOT NULL REFERENCES channels(id),
  user_id TEXT NOT NULL,
  until INTEGER NOT NULL,
  previous_level INTEGER,
  by TEXT NOT NULL,
  reason TEXT,
  PRIMARY KEY (channel_id, user_id)
) WITHOUT ROWID;

CREATE TABLE karma (
  user_id TEXT PRIMARY KEY,
  timeouts INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

CREATE TABLE audiences (
  channel_id INTEGER NOT NULL REFERENCES channels(id),
  user_id TEXT NOT NULL,
  audience TEXT NOT NULL,
  PRIMARY KEY (channel_id, user_id)
) WITHOUT ROWID;

CREATE TABLE user_status (
  user_id TEXT PRIMARY KEY,
  banned INTEGER NOT NULL DEFAULT 0,
  silenced INTEGER NOT NULL DEFAULT 0,
  updated_at INTEGER NOT NULL
) WITHOUT ROWID;

ALTER TABLE native_users ADD COLUMN claims TEXT;
