-- why: the platform's backend talks to Parley over HTTP (/api/v1) with API keys the operator
-- makes, and channel owners make incoming webhooks. Only hashes of their secrets are kept. A
-- channel the API closes keeps its history but takes no one new.
CREATE TABLE api_keys (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  scope TEXT NOT NULL,
  secret_hash TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  revoked_at BIGINT
);

CREATE TABLE webhooks (
  id TEXT PRIMARY KEY,
  channel_id BIGINT NOT NULL REFERENCES channels (id),
  name TEXT NOT NULL,
  avatar_url TEXT,
  secret_hash TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  deleted_at BIGINT
);
CREATE INDEX webhooks_by_channel ON webhooks (channel_id, created_at);

ALTER TABLE channels ADD COLUMN closed_at BIGINT;
