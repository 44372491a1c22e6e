-- why: a client's txn_id is scoped to one channel: reusing it in another channel is a new message,
-- not a retry (before, it returned the first channel's event and posted nothing). Rows whose event
-- never reached the log (a crash between the homeserver's answer and logging) cannot be placed in
-- a channel and are dropped; a client retrying exactly such a send across the upgrade may post it
-- twice, since the Matrix txnId is now derived from the channel too.
ALTER TABLE sent_txns ADD COLUMN channel_id BIGINT REFERENCES channels(id);
UPDATE sent_txns s SET channel_id = e.channel_id FROM events e WHERE e.matrix_event_id = s.matrix_event_id;
DELETE FROM sent_txns WHERE channel_id IS NULL;
ALTER TABLE sent_txns ALTER COLUMN channel_id SET NOT NULL;
ALTER TABLE sent_txns DROP CONSTRAINT sent_txns_pkey;
ALTER TABLE sent_txns ADD PRIMARY KEY (user_id, channel_id, txn_id);
