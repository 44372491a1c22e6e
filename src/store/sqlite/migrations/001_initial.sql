-- why: the core mappings (channel <-> room, native users, members), the per-channel event log and
-- the durable transaction inbox that lets us answer Synapse 200 only after events are on disk.
CREATE TABLE channels (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  room_id TEXT NOT NULL UNIQUE,
  alias TEXT NOT NULL,
  created_at INTEGER NOT NULL
);

CREATE TABLE native_users (
  user_id TEXT PRIMARY KEY,
  localpart TEXT NOT NULL,
  display_name TEXT,
  avatar_url TEXT,
  is_guest INTEGER NOT NULL DEFAULT 0,
  matrix_display_name TEXT,
  created_at INTEGER NOT NULL
);

CREATE TABLE members (
  channel_id INTEGER NOT NULL REFERENCES channels(id),
  user_id TEXT NOT NULL,
  membership TEXT NOT NULL,
  display_name TEXT,
  avatar_url TEXT,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (channel_id, user_id)
);
CREATE INDEX members_by_user ON members(user_id, membership);

CREATE TABLE events (
  channel_id INTEGER NOT NULL REFERENCES channels(id),
  seq INTEGER NOT NULL,
  matrix_event_id TEXT NOT NULL UNIQUE,
  event_type TEXT NOT NULL,
  sender TEXT,
  content TEXT NOT NULL,
  ts INTEGER NOT NULL,
  PRIMARY KEY (channel_id, seq)
) WITHOUT ROWID;

CREATE TABLE inbox (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  matrix_event_id TEXT NOT NULL UNIQUE,
  room_id TEXT NOT NULL,
  body TEXT NOT NULL,
  received_at INTEGER NOT NULL,
  status TEXT NOT NULL DEFAULT 'pending',
  note TEXT
);
CREATE INDEX inbox_pending ON inbox(status, id);

CREATE TABLE registered_puppets (
  user_id TEXT PRIMARY KEY
);
