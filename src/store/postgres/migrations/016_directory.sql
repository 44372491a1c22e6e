-- why: the channel directory (PROTOCOL.md section 8) ranks every public channel on each refresh:
-- a joined-member count per channel, kept by triggers on members whatever writes them, reads one
-- row per channel instead of all their members; `live` marks a channel with a live event on
-- (chat.settings), shown in the directory. user.list.search scans one row per user (their profile
-- and kind, kept by triggers too) instead of one per membership and no other table. The count's row lock orders concurrent joins of one
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

-- kind: 'matrix' (profile: the latest of their member rows), 'native', 'guest' or 'integration'
-- (the server API's and webhooks' users; profile: their own), so a search reads no other table;
-- search: the id and display name in lower case (ASCII), one LIKE where ILIKE on two columns
-- took PostgreSQL 34 ms over 100,000 rows.
CREATE TABLE user_directory (
  user_id TEXT PRIMARY KEY,
  display_name TEXT,
  avatar_url TEXT,
  updated_at BIGINT NOT NULL,
  kind TEXT NOT NULL DEFAULT 'matrix',
  search TEXT NOT NULL DEFAULT ''
);
INSERT INTO user_directory (user_id, display_name, avatar_url, updated_at, search, kind)
  SELECT user_id, display_name, avatar_url, created_at, lower(user_id || chr(10) || COALESCE(display_name, '')),
    CASE WHEN localpart LIKE 'api-%' OR localpart LIKE 'hook-%' THEN 'integration'
      WHEN is_guest THEN 'guest' ELSE 'native' END
  FROM native_users;
INSERT INTO user_directory (user_id, display_name, avatar_url, updated_at, search)
  SELECT DISTINCT ON (user_id) user_id, display_name, avatar_url, updated_at,
    lower(user_id || chr(10) || COALESCE(display_name, '')) FROM members
  ORDER BY user_id, updated_at DESC
  ON CONFLICT (user_id) DO NOTHING;

CREATE FUNCTION user_directory_native() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO user_directory AS d (user_id, display_name, avatar_url, updated_at, search, kind)
    VALUES (NEW.user_id, NEW.display_name, NEW.avatar_url, NEW.created_at,
      lower(NEW.user_id || chr(10) || COALESCE(NEW.display_name, '')),
      CASE WHEN NEW.localpart LIKE 'api-%' OR NEW.localpart LIKE 'hook-%' THEN 'integration'
        WHEN NEW.is_guest THEN 'guest' ELSE 'native' END)
    ON CONFLICT (user_id) DO UPDATE SET display_name = excluded.display_name,
      avatar_url = excluded.avatar_url, search = excluded.search, kind = excluded.kind;
  RETURN NULL;
END;
$$;
CREATE TRIGGER user_directory_native_insert AFTER INSERT ON native_users
  FOR EACH ROW EXECUTE FUNCTION user_directory_native();
CREATE TRIGGER user_directory_native_update AFTER UPDATE OF display_name, avatar_url, is_guest ON native_users
  FOR EACH ROW EXECUTE FUNCTION user_directory_native();

CREATE FUNCTION user_directory_member() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO user_directory AS d (user_id, display_name, avatar_url, updated_at, search)
    VALUES (NEW.user_id, NEW.display_name, NEW.avatar_url, NEW.updated_at,
      lower(NEW.user_id || chr(10) || COALESCE(NEW.display_name, '')))
    ON CONFLICT (user_id) DO UPDATE SET display_name = excluded.display_name,
      avatar_url = excluded.avatar_url, updated_at = excluded.updated_at, search = excluded.search
    WHERE d.kind = 'matrix' AND excluded.updated_at >= d.updated_at;
  RETURN NULL;
END;
$$;
CREATE TRIGGER user_directory_member_insert AFTER INSERT ON members
  FOR EACH ROW EXECUTE FUNCTION user_directory_member();
CREATE TRIGGER user_directory_member_update AFTER UPDATE OF display_name, avatar_url, updated_at ON members
  FOR EACH ROW EXECUTE FUNCTION user_directory_member();

-- A scan of 100,000 rows for a term nobody has takes PostgreSQL about 18 ms: a trigram index
-- answers rare terms (of 3 characters or more) at once, where the server has pg_trgm (contrib) and
-- lets us create it. Where it does not, the search still works, by that scan.
DO $$
BEGIN
  CREATE EXTENSION IF NOT EXISTS pg_trgm;
  CREATE INDEX user_directory_trigrams ON user_directory USING gin (search gin_trgm_ops);
EXCEPTION WHEN OTHERS THEN
  RAISE NOTICE 'no pg_trgm here (%): user.list.search scans user_directory', SQLERRM;
END;
$$;
