-- why: native-first delivery. A native action is logged (its event_id assigned), answered and
-- fanned out before any homeserver call, and mirrored to Matrix through this durable outbox, per
-- channel in log order. So a logged event (or a reaction) may not have its Matrix event id yet,
-- a client's txn_id points at the log entry it produced, and each installation has an id that
-- makes the Matrix txnIds and markers of its outbox entries its own.
CREATE TABLE meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;
INSERT INTO meta (key, value) VALUES ('instance', lower(hex(randomblob(8))));

CREATE TABLE events_v9 (
  channel_id INTEGER NOT NULL REFERENCES channels(id),
  seq INTEGER NOT NULL,
  matrix_event_id TEXT UNIQUE,
  event_type TEXT NOT NULL,
  sender TEXT,
  content TEXT NOT NULL,
  ts INTEGER NOT NULL,
  reply_to INTEGER,
  replaces INTEGER,
  edited INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (channel_id, seq)
) WITHOUT ROWID;
INSERT INTO events_v9 SELECT channel_id, seq, matrix_event_id, event_type, sender, content, ts, reply_to, replaces, edited
  FROM events;
DROP TABLE events;
ALTER TABLE events_v9 RENAME TO events;
CREATE INDEX events_by_type ON events(channel_id, event_type, seq);

CREATE TABLE reactions_v9 (
  channel_id INTEGER NOT NULL REFERENCES channels(id),
  target_seq INTEGER NOT NULL,
  user_id TEXT NOT NULL,
  reaction TEXT NOT NULL,
  matrix_event_id TEXT UNIQUE,
  -- A native reaction's outbox entry: what an unreact resolves the Matrix event through.
  outbox_id INTEGER,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (channel_id, target_seq, user_id, reaction)
);
INSERT INTO reactions_v9 (channel_id, target_seq, user_id, reaction, matrix_event_id, created_at)
  SELECT channel_id, target_seq, user_id, reaction, matrix_event_id, created_at FROM reactions;
DROP TABLE reactions;
ALTER TABLE reactions_v9 RENAME TO reactions;
CREATE INDEX reactions_by_outbox ON reactions(outbox_id) WHERE outbox_id IS NOT NULL;

CREATE TABLE sent_txns_v9 (
  user_id TEXT NOT NULL,
  channel_id INTEGER NOT NULL REFERENCES channels(id),
  txn_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (user_id, channel_id, txn_id)
) WITHOUT ROWID;
INSERT INTO sent_txns_v9 (user_id, channel_id, txn_id, seq, created_at)
  SELECT s.user_id, s.channel_id, s.txn_id, e.seq, s.created_at
  FROM sent_txns s JOIN events e ON e.matrix_event_id = s.matrix_event_id;
DROP TABLE sent_txns;
ALTER TABLE sent_txns_v9 RENAME TO sent_txns;
CREATE INDEX sent_txns_by_age ON sent_txns(created_at);

CREATE TABLE outbox (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  channel_id INTEGER NOT NULL REFERENCES channels(id),
  -- The log entry this mirrors, if any (a power-level change mirrors none).
  seq INTEGER,
  kind TEXT NOT NULL,
  -- The puppet that acts on Matrix; null for the bridge bot.
  actor TEXT,
  payload TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  -- pending, done (it reached Matrix), refused (the homeserver said no for good).
  state TEXT NOT NULL DEFAULT 'pending',
  attempts INTEGER NOT NULL DEFAULT 0,
  first_attempt_at INTEGER,
  next_attempt_at INTEGER NOT NULL DEFAULT 0,
  last_error TEXT,
  matrix_event_id TEXT,
  done_at INTEGER
);
CREATE INDEX outbox_pending ON outbox(state, channel_id, id);
CREATE INDEX outbox_done ON outbox(done_at);
