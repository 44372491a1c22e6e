// The server API's keys, channels' incoming webhooks, closed channels and the directory.
import type { Async, IntegrationStore } from "../../domain/ports/store.ts";
import {
  API_KEY_COLUMNS,
  type ApiKeyRecord,
  apiKeyValues,
  CHANNEL_COLUMNS,
  type ChannelRecord,
  containsPattern,
  directoryWhere,
  toApiKey,
  toChannel,
  toWebhook,
  WEBHOOK_COLUMNS,
  type WebhookRecord,
  webhookValues,
} from "../rows.ts";
import { type Db, named } from "./db.ts";

const SQL = named("integrations", {
  insertApiKey: `INSERT INTO api_keys (${API_KEY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)`,
  apiKey: `SELECT ${API_KEY_COLUMNS} FROM api_keys WHERE id = $1`,
  apiKeys: `SELECT ${API_KEY_COLUMNS} FROM api_keys ORDER BY created_at, id`,
  revokeApiKey: "UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
  insertWebhook: `INSERT INTO webhooks (${WEBHOOK_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
  webhook: `SELECT ${WEBHOOK_COLUMNS} FROM webhooks WHERE id = $1 AND deleted_at IS NULL`,
  webhooksOf: `SELECT ${WEBHOOK_COLUMNS} FROM webhooks WHERE channel_id = $1 AND deleted_at IS NULL
    ORDER BY created_at, id`,
  deleteWebhook:
    "UPDATE webhooks SET deleted_at = $1 WHERE channel_id = $2 AND id = $3 AND deleted_at IS NULL",
  closeChannel: "UPDATE channels SET closed_at = $1 WHERE id = $2 AND closed_at IS NULL",
  // COLLATE "C": names sort by code point, as SQLite sorts them, so a cursor means the same in both.
  directory: `SELECT ${CHANNEL_COLUMNS} FROM channels c WHERE ${directoryWhere("postgres")}
    AND ($1::boolean OR c.join_rule = 'public') AND c.name COLLATE "C" > $2
    AND ($3::text IS NULL OR c.name ILIKE $3 OR c.topic ILIKE $3)
    ORDER BY c.name COLLATE "C" LIMIT $4`,
});

export function integrationQueries(db: Db): Async<IntegrationStore> {
  return {
    async insertApiKey(key) {
      await db.changes(SQL.insertApiKey, [...apiKeyValues(key)]);
    },
    async apiKey(id) {
      const row = await db.first<ApiKeyRecord>(SQL.apiKey, [id]);
      return row && toApiKey(row);
    },
    apiKeys: async () => (await db.rows<ApiKeyRecord>(SQL.apiKeys)).map(toApiKey),
    revokeApiKey: async (id, at) => (await db.changes(SQL.revokeApiKey, [at, id])) > 0,
    async insertWebhook(hook) {
      await db.changes(SQL.insertWebhook, [...webhookValues(hook)]);
    },
    async webhook(id) {
      const row = await db.first<WebhookRecord>(SQL.webhook, [id]);
      return row && toWebhook(row);
    },
    webhooksOf: async (channelId) =>
      (await db.rows<WebhookRecord>(SQL.webhooksOf, [channelId])).map(toWebhook),
    deleteWebhook: async (channelId, id, at) =>
      (await db.changes(SQL.deleteWebhook, [at, channelId, id])) > 0,
    async closeChannel(channelId, at) {
      await db.changes(SQL.closeChannel, [at, channelId]);
    },
    async directory({ search, after, limit, includePrivate }) {
      const pattern = search === undefined || search === "" ? null : containsPattern(search);
      return (await db.rows<ChannelRecord>(SQL.directory, [includePrivate, after ?? "", pattern, limit])).map(
        toChannel,
      );
    },
  };
}
