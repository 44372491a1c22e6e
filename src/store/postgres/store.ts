// The store several Parley nodes share: PostgreSQL through a pg Pool. Each query module answers
// one concern (like src/store/sqlite's); transactions.ts keeps a transaction's calls on its client.
import pg from "pg";
import type { Async, Store, StoreQueries } from "../../domain/ports/store.ts";
import { createLogger } from "../../logging.ts";
import { channelQueries } from "./channels.ts";
import { createDb } from "./db.ts";
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
import { PgTransactions } from "./transactions.ts";
import { userQueries } from "./users.ts";

export interface PostgresStoreOptions {
  /** Connections this node keeps at most (each open transaction holds one). */
  readonly poolSize?: number;
}

const INT8 = 20;
const NUMERIC = 1700;
/**
 * This pool's parsers (pg's global ones are left alone): BIGINT columns and COUNT(*) come back as
 * numbers, as SQLite's integers do. Ids, seqs and millisecond times stay far below 2^53.
 */
const types: pg.CustomTypesConfig = {
  getTypeParser: (oid: number, format?: "text" | "binary") =>
    oid === INT8 || oid === NUMERIC ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format),
};

export async function openPostgresStore(url: string, options: PostgresStoreOptions = {}): Promise<Store> {
  const log = createLogger("Store");
  const pool = new pg.Pool({
    connectionString: url,
    types,
    max: options.poolSize ?? 10,
    application_name: "parley",
    // A node that stalls (or is cut off) inside a transaction would hold its channels' seq rows
    // from every other node: the server ends such a transaction after a minute, keepalives
    // notice a peer that vanished.
    idle_in_transaction_session_timeout: 60_000,
    keepAlive: true,
    // No JIT: it pays off for long analytic queries, and Parley's are short; a plan whose cost
    // estimate crosses its threshold (a deep page of user.list.search) spent 130 ms compiling
    // for a query that runs in a few.
    options: "-c jit=off",
  });
  // An idle connection that breaks (a restart, a failover) is dropped and replaced on demand; the
  // error must be heard, or it would crash the process.
  pool.on("error", (error) => log.warn("an idle PostgreSQL connection failed", error.message));
  let closing: Promise<void> | undefined;
  try {
    await migrate(pool);
    const transactions = new PgTransactions(pool, (error) => log.error("an after-commit hook failed", error));
    const db = createDb(transactions);
    const { instanceId, ...outbox } = outboxQueries(db);
    const queries: Async<StoreQueries> = {
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
    return {
      ...queries,
      instanceId: await instanceId(),
      transaction: (work) => transactions.run(work),
      afterCommit: (work) => transactions.afterCommit(work),
      // Waits for checked-out clients (open transactions) to come back before ending them.
      close: () => {
        closing ??= pool.end();
        return closing;
      },
    };
  } catch (error) {
    await pool.end();
    throw error;
  }
}
