-- why: event subscriptions (outgoing webhooks). The event log is durable already, so nothing is
-- copied: each subscription keeps, per channel, the last event it passed (delivered, filtered out
-- or given up on) and the retry state of the next one. A subscription starts after the events
-- logged when it was created; a channel without a cursor row starts at its first event.
CREATE TABLE subscriptions (
  id TEXT PRIMARY KEY,
  url TEXT NOT NULL,
  -- The HMAC-SHA256 key of its deliveries' signatures.
  secret TEXT NOT NULL,
  -- JSON arrays of channel names and of event types; null: every one.
  channels TEXT,
  events TEXT,
  created_at BIGINT NOT NULL,
  created_by TEXT NOT NULL
);

CREATE TABLE subscription_cursors (
  subscription_id TEXT NOT NULL REFERENCES subscriptions(id) ON DELETE CASCADE,
  channel_id BIGINT NOT NULL REFERENCES channels(id),
  seq BIGINT NOT NULL,
  -- Failed attempts at the event after seq, when the next may be made, since when it fails.
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at BIGINT NOT NULL DEFAULT 0,
  first_failure_at BIGINT,
  last_error TEXT,
  PRIMARY KEY (subscription_id, channel_id)
);
