-- why: history and recovery need read pointers, per-member activity ("seen"), durable send
-- idempotency beyond the homeserver's txn memory, and a record of how far backfill has gone.
ALTER TABLE channels ADD COLUMN join_rule TEXT NOT NULL DEFAULT 'public';
ALTER TABLE channels ADD COLUMN backfill_token TEXT;
ALTER TABLE channels ADD COLUMN backfill_done BOOLEAN NOT NULL DEFAULT false;

ALTER TABLE members ADD COLUMN last_seen BIGINT;
UPDATE members SET last_seen = updated_at;

CREATE TABLE read_pointers (
  user_id TEXT NOT NULL,
  channel_id BIGINT NOT NULL REFERENCES channels(id),
  seq BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (user_id, channel_id)
);

CREATE TABLE sent_txns (
  user_id TEXT NOT NULL,
  txn_id TEXT NOT NULL,
  matrix_event_id TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (user_id, txn_id)
);

-- The newest message per channel is the unread pointer; this keeps finding it cheap.
CREATE INDEX events_by_type ON events(channel_id, event_type, seq);
