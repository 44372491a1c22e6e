-- why: presence (PROTOCOL.md section 9): the status a native user chose (online, away, dnd,
-- invisible: it outlives a connection, and dnd keeps new direct channels away), and the presence
-- Matrix users' homeservers last reported.
CREATE TABLE user_presence (
  user_id TEXT PRIMARY KEY,
  status TEXT NOT NULL,
  updated_at BIGINT NOT NULL
);
