// Event subscriptions and their cursors per channel (see migration 012, src/domain/subscriptions/).
import type { Async, SubscriptionStore } from "../../domain/ports/store.ts";
import {
  notPrivateConversation,
  SUBSCRIPTION_COLUMNS,
  SUBSCRIPTION_CURSOR_COLUMNS,
  type SubscriptionCursorRecord,
  type SubscriptionRecord,
  subscriptionValues,
  toSubscription,
  toSubscriptionCursor,
} from "../rows.ts";
import { type Db, named } from "./db.ts";

/** The channels a subscription `s` follows, for a join on channels `c`. */
// Never a private conversation (direct or moderators' channel), whatever the filter says.
const FOLLOWS = `(s.channels IS NULL OR s.channels::jsonb ? c.name) AND ${notPrivateConversation("postgres")}`;

const SQL = named("subscriptions", {
  insert: `INSERT INTO subscriptions (id, url, secret, channels, events, created_at, created_by)
    VALUES ($1, $2, $3, $4, $5, $6, $7)`,
  // Each followed channel's newest committed event (the log has no gaps below it): only what is
  // logged afterwards is delivered.
  startCursors: `INSERT INTO subscription_cursors (subscription_id, channel_id, seq)
    SELECT s.id, c.id, COALESCE((SELECT MAX(e.seq) FROM events e WHERE e.channel_id = c.id), 0)
    FROM subscriptions s JOIN channels c ON ${FOLLOWS} WHERE s.id = $1`,
  all: `SELECT ${SUBSCRIPTION_COLUMNS} FROM subscriptions s ORDER BY s.created_at, s.id`,
  removeCursors: "DELETE FROM subscription_cursors WHERE subscription_id = $1",
  remove: "DELETE FROM subscriptions WHERE id = $1",
  cursor: `SELECT ${SUBSCRIPTION_CURSOR_COLUMNS} FROM subscriptions s
    LEFT JOIN subscription_cursors k ON k.subscription_id = s.id AND k.channel_id = $1 WHERE s.id = $2`,
  backlog: `SELECT s.id AS subscription_id, c.id AS channel_id, COALESCE(k.next_attempt_at, 0) AS next_attempt_at
    FROM subscriptions s JOIN channels c ON ${FOLLOWS}
    LEFT JOIN subscription_cursors k ON k.subscription_id = s.id AND k.channel_id = c.id
    WHERE EXISTS (SELECT 1 FROM events e WHERE e.channel_id = c.id AND e.seq > COALESCE(k.seq, 0))
    ORDER BY s.id, c.id`,
  // Conditional on the cursor being where the caller read it; nothing for a removed subscription.
  advance: `INSERT INTO subscription_cursors AS k (subscription_id, channel_id, seq)
    SELECT id, $1::bigint, $2::bigint FROM subscriptions WHERE id = $3
    ON CONFLICT (subscription_id, channel_id) DO UPDATE SET seq = excluded.seq, attempts = 0,
      next_attempt_at = 0, first_failure_at = NULL, last_error = NULL
    WHERE k.seq = $4`,
  fail: `INSERT INTO subscription_cursors AS k
      (subscription_id, channel_id, seq, attempts, next_attempt_at, first_failure_at, last_error)
    SELECT id, $1::bigint, $2::bigint, $3::integer, $4::bigint, $5::bigint, $6::text FROM subscriptions WHERE id = $7
    ON CONFLICT (subscription_id, channel_id) DO UPDATE SET attempts = excluded.attempts,
      next_attempt_at = excluded.next_attempt_at, first_failure_at = excluded.first_failure_at,
      last_error = excluded.last_error
    WHERE k.seq = excluded.seq`,
});

export function subscriptionQueries(db: Db): Async<SubscriptionStore> {
  return {
    createSubscription: (row) =>
      db.atomic(async () => {
        await db.changes(SQL.insert, subscriptionValues(row));
        await db.changes(SQL.startCursors, [row.id]);
      }),
    subscriptions: async () => (await db.rows<SubscriptionRecord>(SQL.all)).map(toSubscription),
    removeSubscription: (id) =>
      db.atomic(async () => {
        await db.changes(SQL.removeCursors, [id]);
        return (await db.changes(SQL.remove, [id])) > 0;
      }),
    async subscriptionCursor(id, channelId) {
      const row = await db.first<SubscriptionCursorRecord>(SQL.cursor, [channelId, id]);
      return row && toSubscriptionCursor(row, channelId);
    },
    subscriptionBacklog: async () =>
      (
        await db.rows<{ subscription_id: string; channel_id: number; next_attempt_at: number }>(SQL.backlog)
      ).map((r) => ({
        subscriptionId: r.subscription_id,
        channelId: r.channel_id,
        nextAttemptAt: r.next_attempt_at,
      })),
    advanceSubscriptionCursor: async (id, channelId, from, to) =>
      (await db.changes(SQL.advance, [channelId, to, id, from])) > 0,
    recordSubscriptionFailure: async (id, channelId, at, f) =>
      (await db.changes(SQL.fail, [
        channelId,
        at,
        f.attempts,
        f.nextAttemptAt,
        f.firstFailureAt,
        f.lastError,
        id,
      ])) > 0,
  };
}
