// The default store: one SQLite file through better-sqlite3. Every call is synchronous, so a
// transaction can never interleave with another piece of work on the event loop.
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import type { Store } from "../../domain/ports/store.ts";
import { channelQueries } from "./channels.ts";
import { directQueries } from "./direct.ts";
import { eventQueries } from "./events.ts";
import { inboxQueries } from "./inbox.ts";
import { migrate } from "./migrate.ts";
import { moderationQueries } from "./moderation.ts";
import { outboxQueries } from "./outbox.ts";
import { reactionQueries } from "./reactions.ts";
import { readStateQueries } from "./read-state.ts";
import { userQueries } from "./users.ts";

export function openSqliteStore(path: string): Store {
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  // FULL: an event we answered Synapse 200 for must survive a power cut, not only a crash.
  db.pragma("synchronous = FULL");
  db.pragma("foreign_keys = ON");
  db.pragma("busy_timeout = 5000");
  migrate(db);
  return {
    transaction: <T>(work: () => T): T => db.transaction(work)(),
    ...channelQueries(db),
    ...eventQueries(db),
    ...userQueries(db),
    ...inboxQueries(db),
    ...reactionQueries(db),
    ...readStateQueries(db),
    ...outboxQueries(db),
    ...moderationQueries(db),
    ...directQueries(db),
    close() {
      db.close();
    },
  };
}
