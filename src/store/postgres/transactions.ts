// Transactions over a pg Pool for callers that await. A transaction checks a client out of the
// pool and AsyncLocalStorage carries it: store calls awaited inside run on that client, calls
// from anywhere else run on the pool (PostgreSQL's locks, not this module, keep them apart). A
// nested transaction is a savepoint. The client goes back to the pool whatever happens, and is
// destroyed instead when its connection broke.
import { AsyncLocalStorage } from "node:async_hooks";
import type pg from "pg";

/** A statement pg prepares once per connection (like prepare.ts on the SQLite side). */
export interface Statement {
  readonly name: string;
  readonly text: string;
}

export type Value = string | number | boolean | null | readonly string[];

/**
 * PostgreSQL's text cannot hold U+0000 (SQLite's can): a NUL that reaches us from Matrix (a display
 * name, a reason) is stored as U+FFFD instead of failing the write. JSON columns are unaffected:
 * JSON.stringify escapes it.
 */
const storable = (value: Value): Value => {
  if (typeof value === "string") return value.includes("\0") ? value.replaceAll("\0", "\uFFFD") : value;
  return Array.isArray(value) ? value.map((item: string) => storable(item) as string) : value;
};

/** One open transaction: its client, and what waits for its commit. */
interface Scope {
  readonly client: pg.PoolClient;
  readonly afterCommit: Array<() => void>;
  savepoints: number;
  /** False once it has ended: async work it started and that outlives it uses the pool. */
  open: boolean;
}

/**
 * Checks a client out, listening for its connection breaking (unheard, that error would crash
 * the process). `done` returns it to the pool, or destroys it when it broke or `failed` is given.
 */
async function checkOut(pool: pg.Pool): Promise<{ client: pg.PoolClient; done(failed?: Error): void }> {
  const client = await pool.connect();
  let broken: Error | undefined;
  const onError = (error: Error) => {
    broken = error;
  };
  client.on("error", onError);
  return {
    client,
    done(failed) {
      client.off("error", onError);
      client.release(broken ?? failed);
    },
  };
}

export class PgTransactions {
  private readonly scope = new AsyncLocalStorage<Scope>();
  private readonly pool: pg.Pool;
  private readonly onHookError: (error: unknown) => void;

  constructor(pool: pg.Pool, onHookError: (error: unknown) => void) {
    this.pool = pool;
    this.onHookError = onHookError;
  }

  private current(): Scope | undefined {
    const scope = this.scope.getStore();
    return scope?.open ? scope : undefined;
  }

  /** Runs one statement in the caller's transaction, or on a pooled client outside one. */
  async execute(statement: Statement, values: readonly Value[]): Promise<pg.QueryResult> {
    const query = { name: statement.name, text: statement.text, values: values.map(storable) };
    const scope = this.current();
    if (scope) return await scope.client.query(query);
    const { client, done } = await checkOut(this.pool);
    try {
      return await client.query(query);
    } finally {
      done();
    }
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    const current = this.current();
    if (current) return await this.savepoint(current, work);
    const { client, done } = await checkOut(this.pool);
    const scope: Scope = { client, afterCommit: [], savepoints: 0, open: true };
    let unusable: Error | undefined;
    try {
      await client.query("BEGIN");
      const result = await this.scope.run(scope, work);
      scope.open = false;
      await client.query("COMMIT");
      for (const hook of scope.afterCommit) this.runHook(hook);
      return result;
    } catch (error) {
      scope.open = false;
      // ROLLBACK fails only when the connection is gone (and the transaction with it).
      await client.query("ROLLBACK").catch((rollbackError: unknown) => {
        unusable = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
      });
      throw error;
    } finally {
      done(unusable);
    }
  }

  /** Work that must be atomic: part of the caller's transaction, or a transaction of its own. */
  async atomic<T>(work: () => Promise<T>): Promise<T> {
    return this.current() ? await work() : await this.run(work);
  }

  private async savepoint<T>(scope: Scope, work: () => Promise<T>): Promise<T> {
    const name = `parley_sp${++scope.savepoints}`;
    const hooksBefore = scope.afterCommit.length;
    await scope.client.query(`SAVEPOINT ${name}`);
    try {
      const result = await work();
      await scope.client.query(`RELEASE SAVEPOINT ${name}`);
      return result;
    } catch (error) {
      scope.afterCommit.length = hooksBefore;
      // If this fails too, the whole transaction is lost: the outer one rolls back on `error`.
      await scope.client.query(`ROLLBACK TO SAVEPOINT ${name}`).catch(() => undefined);
      throw error;
    }
  }

  afterCommit(hook: () => void): void {
    const current = this.current();
    if (current) current.afterCommit.push(hook);
    else this.runHook(hook);
  }

  /** A hook's failure is its own: the commit happened, and the other hooks still run. */
  private runHook(hook: () => void): void {
    try {
      hook();
    } catch (error) {
      this.onHookError(error);
    }
  }
}
