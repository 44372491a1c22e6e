// What the query modules see of PostgreSQL: their named statements, run in the caller's
// transaction or on the pool (see transactions.ts), and a way to make several of them atomic.
import type { PgTransactions, Statement, Value } from "./transactions.ts";

export type { Statement, Value };
export type Statements<K extends string> = Record<K, Statement>;

/** Names a module's statements (`events.insert`...) so pg prepares each once per connection. */
export function named<K extends string>(module: string, sql: Record<K, string>): Statements<K> {
  return Object.fromEntries(
    Object.entries(sql).map(([key, text]) => [key, { name: `${module}.${key}`, text: text as string }]),
  ) as Statements<K>;
}

export interface Db {
  rows<R>(statement: Statement, values?: readonly Value[]): Promise<R[]>;
  first<R>(statement: Statement, values?: readonly Value[]): Promise<R | undefined>;
  /** The number of rows the statement inserted, updated or deleted. */
  changes(statement: Statement, values?: readonly Value[]): Promise<number>;
  /** Runs `work` in the caller's transaction, or in a transaction of its own outside one. */
  atomic<T>(work: () => Promise<T>): Promise<T>;
}

export function createDb(transactions: PgTransactions): Db {
  const rows = async <R>(statement: Statement, values: readonly Value[] = []) =>
    (await transactions.execute(statement, values)).rows as R[];
  return {
    rows,
    first: async <R>(statement: Statement, values: readonly Value[] = []) =>
      (await rows<R>(statement, values))[0],
    changes: async (statement, values = []) => (await transactions.execute(statement, values)).rowCount ?? 0,
    atomic: (work) => transactions.atomic(work),
  };
}
