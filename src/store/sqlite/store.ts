// The default store: one SQLite file through better-sqlite3. The queries are synchronous; the
// domain awaits them like any store's (see transactions.ts for how transactions stay whole).
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import type { Async, Store, StoreQueries } from "../../domain/ports/store.ts";
import { createLogger } from "../../logging.ts";
import { channelQueries } from "./channels.ts";
import { directQueries } from "./direct.ts";
import { directoryQueries } from "./directory.ts";
import { eventQueries } from "./events.ts";
import { inboxQueries } from "./inbox.ts";
import { integrationQueries } from "./integrations.ts";
import { leaseQueries } from "./leases.ts";
import { mediaInfoQueries } from "./media-info.ts";
import { migrate } from "./migrate.ts";
import { moderationQueries } from "./moderation.ts";
import { outboxQueries } from "./outbox.ts";
import { presenceQueries } from "./presence.ts";
import { reactionQueries } from "./reactions.ts";
import { readStateQueries } from "./read-state.ts";
import { subscriptionQueries } from "./subscriptions.ts";
import { SqliteTransactions } from "./transactions.ts";
import { userQueries } from "./users.ts";

export function openSqliteStore(path: string): Store {
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  // FULL: an event we answered Synapse 200 for must survive a power cut, not only a crash.
  db.pragma("synchronous = FULL");
  db.pragma("foreign_keys = ON");
  db.pragma("busy_timeout = 5000");
  try {
    migrate(db);
  } catch (error) {
    db.close();
    throw error;
  }
  const { instanceId, ...outbox } = outboxQueries(db);
  const queries: StoreQueries = {
    ...channelQueries(db),
    ...eventQueries(db),
    ...userQueries(db),
    ...inboxQueries(db),
    ...reactionQueries(db),
    ...readStateQueries(db),
    ...outbox,
    ...moderationQueries(db),
    ...directQueries(db),
    ...leaseQueries(db),
    ...integrationQueries(db),
    ...directoryQueries(db),
    ...mediaInfoQueries(db),
    ...presenceQueries(db),
    ...subscriptionQueries(db),
  };
  const transactions = new SqliteTransactions(db, (error) =>
    createLogger("Store").error("an after-commit hook failed", error),
  );
  const wrapped = Object.fromEntries(
    Object.entries(queries).map(([name, query]) => [
      name,
      transactions.wrap(query as (...args: unknown[]) => unknown),
    ]),
  ) as unknown as Async<StoreQueries>;
  return {
    ...wrapped,
    instanceId: instanceId(),
    transaction: (work) => transactions.run(work),
    afterCommit: (work) => transactions.afterCommit(work),
    async close() {
      await transactions.idle();
      db.close();
    },
  };
}
