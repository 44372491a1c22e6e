-- why: the channel directory (PROTOCOL.md section 8) ranks every public channel on each refresh:
-- a joined-member count per channel, kept by triggers on members whatever writes them, reads one
-- row per channel instead of all their members; `live` marks a channel with a live event on
-- (chat.settings), shown in the directory. user.list.search scans one row per user (their latest
-- profile, kept by triggers too) instead of one per membership: a third of the rows to read.
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

CREATE TABLE user_directory (
  user_id TEXT PRIMARY KEY,
  display_name TEXT,
  avatar_url TEXT,
  updated_at INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO user_directory (user_id, display_name, avatar_url, updated_at)
  SELECT user_id, display_name, avatar_url, MAX(updated_at) FROM members GROUP BY user_id;

CREATE TRIGGER user_directory_insert AFTER INSERT ON members
BEGIN
  INSERT INTO user_directory (user_id, display_name, avatar_url, updated_at)
    VALUES (NEW.user_id, NEW.display_name, NEW.avatar_url, NEW.updated_at)
    ON CONFLICT (user_id) DO UPDATE SET display_name = excluded.display_name,
      avatar_url = excluded.avatar_url, updated_at = excluded.updated_at
    WHERE excluded.updated_at >= user_directory.updated_at;
END;
CREATE TRIGGER user_directory_update AFTER UPDATE OF display_name, avatar_url, updated_at ON members
BEGIN
  INSERT INTO user_directory (user_id, display_name, avatar_url, updated_at)
    VALUES (NEW.user_id, NEW.display_name, NEW.avatar_url, NEW.updated_at)
    ON CONFLICT (user_id) DO UPDATE SET display_name = excluded.display_name,
      avatar_url = excluded.avatar_url, updated_at = excluded.updated_at
    WHERE excluded.updated_at >= user_directory.updated_at;
END;
