// Event subscriptions and their cursors per channel (see migration 012, src/domain/subscriptions/).
import type Database from "better-sqlite3";
import type { SubscriptionRow, SubscriptionStore } from "../../domain/ports/store.ts";
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
import { prepareAll } from "./prepare.ts";

/** The channels a subscription `s` follows, for a join on channels `c`. */
// Never a private conversation (direct or moderators' channel), whatever the filter says.
const FOLLOWS = `(s.channels IS NULL OR c.name IN (SELECT value FROM json_each(s.channels))) AND ${notPrivateConversation("sqlite")}`;

const SQL = {
  insert: `INSERT INTO subscriptions (id, url, secret, channels, events, created_at, created_by)
    VALUES (?, ?, ?, ?, ?, ?, ?)`,
  // Each followed channel's newest event: only what is logged afterwards is delivered.
  startCursors: `INSERT INTO subscription_cursors (subscription_id, channel_id, seq)
    SELECT s.id, c.id, COALESCE((SELECT MAX(e.seq) FROM events e WHERE e.channel_id = c.id), 0)
    FROM subscriptions s JOIN channels c ON ${FOLLOWS} WHERE s.id = ?`,
  all: `SELECT ${SUBSCRIPTION_COLUMNS} FROM subscriptions s ORDER BY s.created_at, s.id`,
  removeCursors: "DELETE FROM subscription_cursors WHERE subscription_id = ?",
  remove: "DELETE FROM subscriptions WHERE id = ?",
  cursor: `SELECT ${SUBSCRIPTION_CURSOR_COLUMNS} FROM subscriptions s
    LEFT JOIN subscription_cursors k ON k.subscription_id = s.id AND k.channel_id = ? WHERE s.id = ?`,
  backlog: `SELECT s.id AS subscription_id, c.id AS channel_id, COALESCE(k.next_attempt_at, 0) AS next_attempt_at
    FROM subscriptions s JOIN channels c ON ${FOLLOWS}
    LEFT JOIN subscription_cursors k ON k.subscription_id = s.id AND k.channel_id = c.id
    WHERE EXISTS (SELECT 1 FROM events e WHERE e.channel_id = c.id AND e.seq > COALESCE(k.seq, 0))
    ORDER BY s.id, c.id`,
  // Conditional on the cursor being where the caller read it; nothing for a removed subscription.
  advance: `INSERT INTO subscription_cursors (subscription_id, channel_id, seq)
    SELECT id, ?, ? FROM subscriptions WHERE id = ?
    ON CONFLICT (subscription_id, channel_id) DO UPDATE SET seq = excluded.seq, attempts = 0,
      next_attempt_at = 0, first_failure_at = NULL, last_error = NULL
    WHERE subscription_cursors.seq = ?`,
  fail: `INSERT INTO subscription_cursors
      (subscription_id, channel_id, seq, attempts, next_attempt_at, first_failure_at, last_error)
    SELECT id, ?, ?, ?, ?, ?, ? FROM subscriptions WHERE id = ?
    ON CONFLICT (subscription_id, channel_id) DO UPDATE SET attempts = excluded.attempts,
      next_attempt_at = excluded.next_attempt_at, first_failure_at = excluded.first_failure_at,
      last_error = excluded.last_error
    WHERE subscription_cursors.seq = excluded.seq`,
} as const;

export function subscriptionQueries(db: Database.Database): SubscriptionStore {
  const q = prepareAll(db, SQL);
  const createSubscription = db.transaction((row: SubscriptionRow) => {
    q.insert.run(...subscriptionValues(row));
    q.startCursors.run(row.id);
  });
  const removeSubscription = db.transaction((id: string) => {
    q.removeCursors.run(id);
    return q.remove.run(id).changes > 0;
  });
  return {
    createSubscription,
    subscriptions: () => (q.all.all() as SubscriptionRecord[]).map(toSubscription),
    removeSubscription,
    subscriptionCursor(id, channelId) {
      const row = q.cursor.get(channelId, id) as SubscriptionCursorRecord | undefined;
      return row && toSubscriptionCursor(row, channelId);
    },
    subscriptionBacklog: () =>
      (
        q.backlog.all() as Array<{ subscription_id: string; channel_id: number; next_attempt_at: number }>
      ).map((r) => ({
        subscriptionId: r.subscription_id,
        channelId: r.channel_id,
        nextAttemptAt: r.next_attempt_at,
      })),
    advanceSubscriptionCursor: (id, channelId, from, to) =>
      q.advance.run(channelId, to, id, from).changes > 0,
    recordSubscriptionFailure: (id, channelId, at, f) =>
      q.fail.run(channelId, at, f.attempts, f.nextAttemptAt, f.firstFailureAt, f.lastError, id).changes > 0,
  };
}
