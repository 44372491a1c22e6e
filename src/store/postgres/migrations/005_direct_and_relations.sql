-- why: private messages and personal controls: which users a direct channel belongs to (the
-- same set reuses one channel), and whom each user blocks (no DMs from them) or ignores (their
-- messages are not delivered).
CREATE TABLE direct_members (
  channel_id BIGINT NOT NULL REFERENCES channels(id),
  user_id TEXT NOT NULL,
  PRIMARY KEY (channel_id, user_id)
);
CREATE INDEX direct_members_by_user ON direct_members(user_id);

CREATE TABLE user_relations (
  user_id TEXT NOT NULL,
  other_id TEXT NOT NULL,
  relation TEXT NOT NULL CHECK (relation IN ('block', 'ignore')),
  created_at BIGINT NOT NULL,
  PRIMARY KEY (user_id, relation, other_id)
);
