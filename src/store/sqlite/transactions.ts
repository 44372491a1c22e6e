// Transactions over one SQLite connection for callers that await. better-sqlite3 is synchronous,
// so a transaction whose work awaits leaves the connection open to whatever else runs meanwhile:
// while one is open, calls from outside it wait, and calls from inside it (known through
// AsyncLocalStorage) go straight through. A nested transaction becomes a savepoint.
import { AsyncLocalStorage } from "node:async_hooks";
import type Database from "better-sqlite3";

/** One open transaction, and what waits for its commit. */
type Scope = { readonly id: number; readonly afterCommit: Array<() => void> };

export class SqliteTransactions {
  private readonly scope = new AsyncLocalStorage<Scope>();
  private open: Scope | undefined;
  private waiters: Array<() => void> = [];
  private opened = 0;
  private savepoints = 0;

  private readonly db: Database.Database;
  private readonly onHookError: (error: unknown) => void;

  constructor(db: Database.Database, onHookError: (error: unknown) => void) {
    this.db = db;
    this.onHookError = onHookError;
  }

  /** Whether a call from the current context must wait for someone else's transaction. */
  private blocked(): boolean {
    return this.open !== undefined && this.scope.getStore() !== this.open;
  }

  private released(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Wraps a synchronous query: it runs once no one else's transaction is open. */
  wrap<A extends unknown[], R>(query: (...args: A) => R): (...args: A) => Promise<R> {
    return async (...args: A): Promise<R> => {
      // The check and the call happen in the same tick, so no transaction can open in between.
      while (this.blocked()) await this.released();
      return query(...args);
    };
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    const current = this.scope.getStore();
    if (current !== undefined && current === this.open) return this.savepoint(current, work);
    while (this.open !== undefined) await this.released();
    const scope: Scope = { id: ++this.opened, afterCommit: [] };
    this.open = scope;
    try {
      this.db.exec("BEGIN IMMEDIATE");
      const result = await this.scope.run(scope, work);
      this.db.exec("COMMIT");
      // Before anyone else may commit: hooks run in commit order.
      for (const hook of scope.afterCommit) this.runHook(hook);
      return result;
    } catch (error) {
      if (this.db.inTransaction) this.db.exec("ROLLBACK");
      throw error;
    } finally {
      this.open = undefined;
      for (const wake of this.waiters.splice(0)) wake();
    }
  }

  private async savepoint<T>(scope: Scope, work: () => Promise<T>): Promise<T> {
    const name = `parley_sp${++this.savepoints}`;
    const hooksBefore = scope.afterCommit.length;
    this.db.exec(`SAVEPOINT ${name}`);
    try {
      const result = await work();
      this.db.exec(`RELEASE ${name}`);
      return result;
    } catch (error) {
      this.db.exec(`ROLLBACK TO ${name}`);
      this.db.exec(`RELEASE ${name}`);
      scope.afterCommit.length = hooksBefore;
      throw error;
    }
  }

  afterCommit(hook: () => void): void {
    const current = this.scope.getStore();
    if (current !== undefined && current === this.open) current.afterCommit.push(hook);
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

  /** Resolves once no transaction is open (for closing the database). */
  async idle(): Promise<void> {
    while (this.open !== undefined) await this.released();
  }
}
