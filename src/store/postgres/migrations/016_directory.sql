-- why: the channel directory (PROTOCOL.md section 8) ranks every public channel on each refresh:
-- a joined-member count per channel, kept by triggers on members whatever writes them, reads one
-- row per channel instead of all their members; `live` marks a channel with a live event on
-- (chat.settings), shown in the directory. user.list.search scans one row per user (their latest
-- profile, kept by triggers too) instead of one per membership: a third of the rows to read. The count's row lock orders concurrent joins of one
-- channel, which its log lock (holdChannelLog) already does.
ALTER TABLE channels ADD COLUMN member_count BIGINT NOT NULL DEFAULT 0;
UPDATE channels SET member_count =
  (SELECT COUNT(*) FROM members m WHERE m.channel_id = channels.id AND m.membership = 'join');

CREATE FUNCTION members_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.membership = 'join' THEN
    UPDATE channels SET member_count = member_count - 1 WHERE id = OLD.channel_id;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.membership = 'join' THEN
    UPDATE channels SET member_count = member_count + 1 WHERE id = NEW.channel_id;
  END IF;
  RETURN NULL;
END;
$$;
CREATE TRIGGER members_count_insert AFTER INSERT ON members
  FOR EACH ROW WHEN (NEW.membership = 'join') EXECUTE FUNCTION members_count();
CREATE TRIGGER members_count_update AFTER UPDATE OF membership ON members
  FOR EACH ROW WHEN ((OLD.membership = 'join') IS DISTINCT FROM (NEW.membership = 'join'))
  EXECUTE FUNCTION members_count();
CREATE TRIGGER members_count_delete AFTER DELETE ON members
  FOR EACH ROW WHEN (OLD.membership = 'join') EXECUTE FUNCTION members_count();

ALTER TABLE channel_settings ADD COLUMN live BOOLEAN NOT NULL DEFAULT false;

CREATE TABLE user_directory (
  user_id TEXT PRIMARY KEY,
  display_name TEXT,
  avatar_url TEXT,
  updated_at BIGINT NOT NULL
);
INSERT INTO user_directory (user_id, display_name, avatar_url, updated_at)
  SELECT DISTINCT ON (user_id) user_id, display_name, avatar_url, updated_at FROM members
  ORDER BY user_id, updated_at DESC;

CREATE FUNCTION user_directory_profile() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO user_directory AS d (user_id, display_name, avatar_url, updated_at)
    VALUES (NEW.user_id, NEW.display_name, NEW.avatar_url, NEW.updated_at)
    ON CONFLICT (user_id) DO UPDATE SET display_name = excluded.display_name,
      avatar_url = excluded.avatar_url, updated_at = excluded.updated_at
    WHERE excluded.updated_at >= d.updated_at;
  RETURN NULL;
END;
$$;
CREATE TRIGGER user_directory_insert AFTER INSERT ON members
  FOR EACH ROW EXECUTE FUNCTION user_directory_profile();
CREATE TRIGGER user_directory_update AFTER UPDATE OF display_name, avatar_url, updated_at ON members
  FOR EACH ROW EXECUTE FUNCTION user_directory_profile();
