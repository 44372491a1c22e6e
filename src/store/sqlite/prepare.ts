// Prepares a module's named SQL statements once, next to the row types that read them.
import type Database from "better-sqlite3";

export type Statements<K extends string> = Record<K, Database.Statement>;

export function prepareAll<K extends string>(db: Database.Database, sql: Record<K, string>): Statements<K> {
  return Object.fromEntries(
    Object.entries(sql).map(([name, text]) => [name, db.prepare(text as string)]),
  ) as Statements<K>;
}
