-- why: rich messaging: edits and deletes rewrite the original's content (fetch shows the latest
-- version), replies and edits point at other events, reactions are summarized per message,
-- mentions become per-user notifications, and the room's power levels decide who may delete.
ALTER TABLE events ADD COLUMN reply_to INTEGER;
ALTER TABLE events ADD COLUMN replaces INTEGER;
ALTER TABLE events ADD COLUMN edited INTEGER NOT NULL DEFAULT 0;

ALTER TABLE channels ADD COLUMN power_levels TEXT;

CREATE TABLE reactions (
  channel_id INTEGER NOT NULL REFERENCES channels(id),
  target_seq INTEGER NOT NULL,
  user_id TEXT NOT NULL,
  reaction TEXT NOT NULL,
  matrix_event_id TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (channel_id, target_seq, user_id, reaction)
);

CREATE TABLE notifications (
  user_id TEXT NOT NULL,
  channel_id INTEGER NOT NULL REFERENCES channels(id),
  seq INTEGER NOT NULL,
  PRIMARY KEY (user_id, channel_id, seq)
) WITHOUT ROWID;
