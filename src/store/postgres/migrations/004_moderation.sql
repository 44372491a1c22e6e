-- why: moderation: per-channel settings (slow mode, rules, join policy, the parent of a moderator
-- channel), rule acceptance, timeouts that outlive a restart, karma, audiences, platform-wide bans
-- and silences, and the JWT claims a join policy is checked against.
CREATE TABLE channel_settings (
  channel_id BIGINT PRIMARY KEY REFERENCES channels(id),
  slow_mode INTEGER NOT NULL DEFAULT 0,
  rules TEXT,
  rules_required BOOLEAN NOT NULL DEFAULT false,
  rules_version INTEGER NOT NULL DEFAULT 0,
  guests BOOLEAN NOT NULL DEFAULT true,
  required_claim TEXT,
  parent_channel_id BIGINT REFERENCES channels(id)
);

CREATE TABLE rules_accepted (
  channel_id BIGINT NOT NULL REFERENCES channels(id),
  user_id TEXT NOT NULL,
  version INTEGER NOT NULL,
  PRIMARY KEY (channel_id, user_id)
);

CREATE TABLE timeouts (
  channel_id BIGINT NOT NULL REFERENCES channels(id),
  user_id TEXT NOT NULL,
  until BIGINT NOT NULL,
  previous_level BIGINT,
  by TEXT NOT NULL,
  reason TEXT,
  PRIMARY KEY (channel_id, user_id)
);

CREATE TABLE karma (
  user_id TEXT PRIMARY KEY,
  timeouts INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE audiences (
  channel_id BIGINT NOT NULL REFERENCES channels(id),
  user_id TEXT NOT NULL,
  audience TEXT NOT NULL,
  PRIMARY KEY (channel_id, user_id)
);

CREATE TABLE user_status (
  user_id TEXT PRIMARY KEY,
  banned BOOLEAN NOT NULL DEFAULT false,
  silenced BOOLEAN NOT NULL DEFAULT false,
  updated_at BIGINT NOT NULL
);

ALTER TABLE native_users ADD COLUMN claims TEXT;
