-- why: rich messaging: edits and deletes rewrite the original's content (fetch shows the latest
-- version), replies and edits point at other events, reactions are summarized per message,
-- mentions become per-user notifications, and the room's power levels decide who may delete.
ALTER TABLE events ADD COLUMN reply_to BIGINT;
ALTER TABLE events ADD COLUMN replaces BIGINT;
ALTER TABLE events ADD COLUMN edited BOOLEAN NOT NULL DEFAULT false;

ALTER TABLE channels ADD COLUMN power_levels TEXT;

CREATE TABLE reactions (
  channel_id BIGINT NOT NULL REFERENCES channels(id),
  target_seq BIGINT NOT NULL,
  user_id TEXT NOT NULL,
  reaction TEXT NOT NULL,
  matrix_event_id TEXT NOT NULL UNIQUE,
  created_at BIGINT NOT NULL,
  -- The order reactions were added in (SQLite's rowid): summaries list reactors in that order.
  ordinal BIGINT GENERATED ALWAYS AS IDENTITY,
  PRIMARY KEY (channel_id, target_seq, user_id, reaction)
);

CREATE TABLE notifications (
  user_id TEXT NOT NULL,
  channel_id BIGINT NOT NULL REFERENCES channels(id),
  seq BIGINT NOT NULL,
  PRIMARY KEY (user_id, channel_id, seq)
);
