-- why: a client's txn_id is scoped to one channel: reusing it in another channel is a new message,
-- not a retry (before, it returned the first channel's event and posted nothing). Rows whose event
-- never reached the log (a crash between the homeserver's answer and logging) cannot be placed in
-- a channel and are dropped; a client retrying exactly such a send across the upgrade may post it
-- twice, since the Matrix txnId is now derived from the channel too.
CREATE TABLE sent_txns_by_channel (
  user_id TEXT NOT NULL,
  channel_id INTEGER NOT NULL REFERENCES channels(id),
  txn_id TEXT NOT NULL,
  matrix_event_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (user_id, channel_id, txn_id)
) WITHOUT ROWID;
INSERT INTO sent_txns_by_channel (user_id, channel_id, txn_id, matrix_event_id, created_at)
  SELECT s.user_id, e.channel_id, s.txn_id, s.matrix_event_id, s.created_at
  FROM sent_txns s JOIN events e ON e.matrix_event_id = s.matrix_event_id;
DROP TABLE sent_txns;
ALTER TABLE sent_txns_by_channel RENAME TO sent_txns;
CREATE INDEX sent_txns_by_age ON sent_txns(created_at);
