-- why: history and recovery need read pointers, per-member activity ("seen"), durable send
-- idempotency beyond the homeserver's txn memory, and a record of how far backfill has gone.
ALTER TABLE channels ADD COLUMN join_rule TEXT NOT NULL DEFAULT 'public';
ALTER TABLE channels ADD COLUMN backfill_token TEXT;
ALTER TABLE channels ADD COLUMN backfill_done INTEGER NOT NULL DEFAULT 0;

ALTER TABLE members ADD COLUMN last_seen INTEGER;
UPDATE members SET last_seen = updated_at;

CREATE TABLE read_pointers (
  user_id TEXT NOT NULL,
  channel_id INTEGER NOT NULL REFERENCES channels(id),
  seq INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (user_id, channel_id)
) WITHOUT ROWID;

CREATE TABLE sent_txns (
  user_id TEXT NOT NULL,
  txn_id TEXT NOT NULL,
  matrix_event_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (user_id, txn_id)
) WITHOUT ROWID;

-- The newest message per channel is the unread pointer; this keeps finding it cheap.
CREATE INDEX events_by_type ON events(channel_id, event_type, seq);
