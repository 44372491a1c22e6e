// The server API's keys, channels' incoming webhooks, closed channels and the directory.
import type Database from "better-sqlite3";
import type { IntegrationStore } from "../../domain/ports/store.ts";
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
import { prepareAll } from "./prepare.ts";

const SQL = {
  insertApiKey: `INSERT INTO api_keys (${API_KEY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)`,
  apiKey: `SELECT ${API_KEY_COLUMNS} FROM api_keys WHERE id = ?`,
  apiKeys: `SELECT ${API_KEY_COLUMNS} FROM api_keys ORDER BY created_at, id`,
  revokeApiKey: "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
  insertWebhook: `INSERT INTO webhooks (${WEBHOOK_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)`,
  webhook: `SELECT ${WEBHOOK_COLUMNS} FROM webhooks WHERE id = ? AND deleted_at IS NULL`,
  webhooksOf: `SELECT ${WEBHOOK_COLUMNS} FROM webhooks WHERE channel_id = ? AND deleted_at IS NULL
    ORDER BY created_at, id`,
  deleteWebhook: "UPDATE webhooks SET deleted_at = ? WHERE channel_id = ? AND id = ? AND deleted_at IS NULL",
  closeChannel: "UPDATE channels SET closed_at = ? WHERE id = ? AND closed_at IS NULL",
  directory: `SELECT ${CHANNEL_COLUMNS} FROM channels c WHERE ${directoryWhere("sqlite")}
    AND (? OR c.join_rule = 'public') AND c.name > ?
    AND (? IS NULL OR c.name LIKE ? ESCAPE '\\' OR c.topic LIKE ? ESCAPE '\\')
    ORDER BY c.name LIMIT ?`,
} as const;

export function integrationQueries(db: Database.Database): IntegrationStore {
  const q = prepareAll(db, SQL);
  return {
    insertApiKey(key) {
      q.insertApiKey.run(...apiKeyValues(key));
    },
    apiKey(id) {
      const row = q.apiKey.get(id) as ApiKeyRecord | undefined;
      return row && toApiKey(row);
    },
    apiKeys: () => (q.apiKeys.all() as ApiKeyRecord[]).map(toApiKey),
    revokeApiKey: (id, at) => q.revokeApiKey.run(at, id).changes > 0,
    insertWebhook(hook) {
      q.insertWebhook.run(...webhookValues(hook));
    },
    webhook(id) {
      const row = q.webhook.get(id) as WebhookRecord | undefined;
      return row && toWebhook(row);
    },
    webhooksOf: (channelId) => (q.webhooksOf.all(channelId) as WebhookRecord[]).map(toWebhook),
    deleteWebhook: (channelId, id, at) => q.deleteWebhook.run(at, channelId, id).changes > 0,
    closeChannel(channelId, at) {
      q.closeChannel.run(at, channelId);
    },
    directory({ search, after, limit, includePrivate }) {
      const pattern = search === undefined || search === "" ? null : containsPattern(search);
      return (
        q.directory.all(
          includePrivate ? 1 : 0,
          after ?? "",
          pattern,
          pattern,
          pattern,
          limit,
        ) as ChannelRecord[]
      ).map(toChannel);
    },
  };
}
