-- why: the channel directory (PROTOCOL.md section 8) ranks every public channel on each refresh:
-- a joined-member count per channel, kept by triggers on members whatever writes them, reads one
-- row per channel instead of all their members; `live` marks a channel with a live event on
-- (chat.settings), shown in the directory. user.list.search scans one row per user (their profile
-- and kind, kept by triggers too) instead of one per membership and no other table.
ALTER TABLE channels ADD COLUMN member_count INTEGER NOT NULL DEFAULT 0;
UPDATE channels SET member_count =
  (SELECT COUNT(*) FROM members m WHERE m.channel_id = channels.id AND m.membership = 'join');

CREATE TRIGGER members_count_insert AFTER INSERT ON members WHEN NEW.membership = 'join'
BEGIN
  UPDATE channels SET member_count = member_count + 1 WHERE id = NEW.channel_id;
END;
CREATE TRIGGER members_count_update AFTER UPDATE OF membership ON members
  WHEN (OLD.membership = 'join') <> (NEW.membership = 'join')
BEGIN
  UPDATE channels SET member_count = member_count + (CASE WHEN NEW.membership = 'join' THEN 1 ELSE -1 END)
    WHERE id = NEW.channel_id;
END;
CREATE TRIGGER members_count_delete AFTER DELETE ON members WHEN OLD.membership = 'join'
BEGIN
  UPDATE channels SET member_count = member_count - 1 WHERE id = OLD.channel_id;
END;

ALTER TABLE channel_settings ADD COLUMN live INTEGER NOT NULL DEFAULT 0;

-- kind: 'matrix' (profile: the latest of their member rows), 'native', 'guest' or 'integration'
-- (the server API's and webhooks' users; profile: their own), so a search reads no other table;
-- search: the id and display name in lower case (ASCII), one LIKE where ILIKE on two columns
-- took PostgreSQL 34 ms over 100,000 rows.
CREATE TABLE user_directory (
  user_id TEXT PRIMARY KEY,
  display_name TEXT,
  avatar_url TEXT,
  updated_at INTEGER NOT NULL,
  kind TEXT NOT NULL DEFAULT 'matrix',
  search TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;
INSERT INTO user_directory (user_id, display_name, avatar_url, updated_at, search, kind)
  SELECT user_id, display_name, avatar_url, created_at, lower(user_id || char(10) || COALESCE(display_name, '')),
    CASE WHEN localpart GLOB 'api-*' OR localpart GLOB 'hook-*' THEN 'integration'
      WHEN is_guest THEN 'guest' ELSE 'native' END
  FROM native_users;
INSERT INTO user_directory (user_id, display_name, avatar_url, updated_at, search)
  SELECT user_id, display_name, avatar_url, MAX(updated_at), lower(user_id || char(10) || COALESCE(display_name, ''))
  FROM members GROUP BY user_id
  ON CONFLICT (user_id) DO NOTHING;

CREATE TRIGGER user_directory_native_insert AFTER INSERT ON native_users
BEGIN
  INSERT INTO user_directory (user_id, display_name, avatar_url, updated_at, search, kind)
    VALUES (NEW.user_id, NEW.display_name, NEW.avatar_url, NEW.created_at,
      lower(NEW.user_id || char(10) || COALESCE(NEW.display_name, '')),
      CASE WHEN NEW.localpart GLOB 'api-*' OR NEW.localpart GLOB 'hook-*' THEN 'integration'
        WHEN NEW.is_guest THEN 'guest' ELSE 'native' END)
    ON CONFLICT (user_id) DO UPDATE SET display_name = excluded.display_name,
      avatar_url = excluded.avatar_url, search = excluded.search, kind = excluded.kind;
END;
CREATE TRIGGER user_directory_native_update AFTER UPDATE OF display_name, avatar_url, is_guest ON native_users
BEGIN
  UPDATE user_directory SET display_name = NEW.display_name, avatar_url = NEW.avatar_url,
    search = lower(NEW.user_id || char(10) || COALESCE(NEW.display_name, '')),
    kind = CASE WHEN NEW.localpart GLOB 'api-*' OR NEW.localpart GLOB 'hook-*' THEN 'integration'
      WHEN NEW.is_guest THEN 'guest' ELSE 'native' END
    WHERE user_id = NEW.user_id;
END;
CREATE TRIGGER user_directory_member_insert AFTER INSERT ON members
BEGIN
  INSERT INTO user_directory (user_id, display_name, avatar_url, updated_at, search)
    VALUES (NEW.user_id, NEW.display_name, NEW.avatar_url, NEW.updated_at,
      lower(NEW.user_id || char(10) || COALESCE(NEW.display_name, '')))
    ON CONFLICT (user_id) DO UPDATE SET display_name = excluded.display_name,
      avatar_url = excluded.avatar_url, updated_at = excluded.updated_at, search = excluded.search
    WHERE user_directory.kind = 'matrix' AND excluded.updated_at >= user_directory.updated_at;
END;
CREATE TRIGGER user_directory_member_update AFTER UPDATE OF display_name, avatar_url, updated_at ON members
BEGIN
  INSERT INTO user_directory (user_id, display_name, avatar_url, updated_at, search)
    VALUES (NEW.user_id, NEW.display_name, NEW.avatar_url, NEW.updated_at,
      lower(NEW.user_id || char(10) || COALESCE(NEW.display_name, '')))
    ON CONFLICT (user_id) DO UPDATE SET display_name = excluded.display_name,
      avatar_url = excluded.avatar_url, updated_at = excluded.updated_at, search = excluded.search
    WHERE user_directory.kind = 'matrix' AND excluded.updated_at >= user_directory.updated_at;
END;
