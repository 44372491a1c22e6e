// The directory benchmark's installation: 10,000 channels and 100,000 users written straight into a
// store's tables (creating them through Parley would take hours). Deterministic: every run seeds
// the same names, memberships and settings.
//   - channels `room_00000`...: one in ten invite-only, one in twenty with guests off, one in
//     fifty closed, plus 1,000 direct (`dm.*`) and 500 moderators' (`*.mods`) channels; topics
//     from a small vocabulary, so searches match some and not others;
//   - users: half native (`@chat_user_000000:bench`), half Matrix (`@m_000000:remote.example`),
//     one in twenty native ones guests, 200 integrations (`api-*`, `hook-*`);
//   - memberships: three channels per user, skewed (a few channels have thousands of members,
//     most a handful): 300,000 rows.
import type BetterSqlite3 from "better-sqlite3";

export const SEED = { channels: 10_000, users: 100_000, perUser: 3, direct: 1_000, mods: 500 } as const;
// The middle tier's server name: the seeded native users are the ones the benchmark logs in as.
export const BENCH_SERVER = "localhost";

const WORDS = ["music", "games", "talk", "live", "art", "code", "news", "sport", "film", "books"];

/** mulberry32: the same pseudo-random sequence every run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pad = (n: number, width: number) => String(n).padStart(width, "0");
export const channelName = (i: number) => `room_${pad(i, 5)}`;
export const nativeUser = (i: number) => `@chat_user_${pad(i, 6)}:${BENCH_SERVER}`;
export const matrixUser = (i: number) => `@m_${pad(i, 6)}:remote.example`;

export interface SeedChannel {
  readonly name: string;
  readonly topic: string | null;
  readonly joinRule: "public" | "invite";
  readonly guests: boolean;
  readonly closed: boolean;
}
export interface SeedUser {
  readonly userId: string;
  readonly native: boolean;
  readonly localpart: string;
  readonly displayName: string;
  readonly guest: boolean;
}

/** Everything to insert, as plain rows (both dialects' seeders write these). */
export function seedRows() {
  const random = seededRandom(42);
  const channels: SeedChannel[] = [];
  for (let i = 0; i < SEED.channels; i++) {
    const word = WORDS[i % WORDS.length] as string;
    channels.push({
      name: channelName(i),
      topic: i % 3 === 0 ? null : `all about ${word} number ${i}`,
      joinRule: i % 10 === 7 ? "invite" : "public",
      guests: i % 20 !== 3,
      closed: i % 50 === 11,
    });
  }
  for (let i = 0; i < SEED.direct; i++)
    channels.push({ name: `dm.${pad(i, 5)}`, topic: null, joinRule: "invite", guests: true, closed: false });
  for (let i = 0; i < SEED.mods; i++)
    channels.push({
      name: `${channelName(i)}.mods`,
      topic: null,
      joinRule: "invite",
      guests: true,
      closed: false,
    });
  const users: SeedUser[] = [];
  for (let i = 0; i < SEED.users; i++) {
    const native = i % 2 === 0;
    const integration = native && i % 1000 === 0;
    const localpart = integration ? `${i % 4000 === 0 ? "api" : "hook"}-${pad(i, 6)}` : `user_${pad(i, 6)}`;
    users.push({
      userId: native ? `@chat_${localpart}:${BENCH_SERVER}` : matrixUser(i),
      native,
      localpart,
      displayName: `${WORDS[i % WORDS.length]} fan ${pad(i, 6)}`,
      guest: native && !integration && i % 20 === 2,
    });
  }
  // Skewed: channel index ~ N * r^3, so low indexes are crowded.
  const memberships: Array<{ channel: number; user: number }> = [];
  for (let u = 0; u < SEED.users; u++) {
    const chosen = new Set<number>();
    while (chosen.size < SEED.perUser) chosen.add(Math.floor(SEED.channels * random() ** 3));
    for (const channel of chosen) memberships.push({ channel, user: u });
  }
  return { channels, users, memberships };
}

/** Seeds a migrated SQLite database (member counts and user_directory follow by their triggers). */
export function seedSqlite(db: BetterSqlite3.Database): void {
  const { channels, users, memberships } = seedRows();
  const now = Date.now();
  const insertChannel = db.prepare(
    "INSERT INTO channels (name, room_id, alias, created_at, join_rule, topic, closed_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
  );
  const insertSettings = db.prepare("INSERT INTO channel_settings (channel_id, guests) VALUES (?, ?)");
  const insertUser = db.prepare(
    "INSERT INTO native_users (user_id, localpart, display_name, is_guest, created_at) VALUES (?, ?, ?, ?, ?)",
  );
  const insertMember = db.prepare(
    "INSERT INTO members (channel_id, user_id, membership, display_name, avatar_url, updated_at, last_seen) VALUES (?, ?, 'join', ?, NULL, ?, ?)",
  );
  db.transaction(() => {
    const ids: number[] = [];
    for (const c of channels) {
      const id = Number(
        insertChannel.run(
          c.name,
          `!${c.name}:${BENCH_SERVER}`,
          `#chat_${c.name}:${BENCH_SERVER}`,
          now,
          c.joinRule,
          c.topic,
          c.closed ? now : null,
        ).lastInsertRowid,
      );
      ids.push(id);
      if (!c.guests) insertSettings.run(id, 0);
    }
    for (const u of users)
      if (u.native) insertUser.run(u.userId, u.localpart, u.displayName, u.guest ? 1 : 0, now);
    for (const m of memberships) {
      const user = users[m.user] as SeedUser;
      insertMember.run(ids[m.channel], user.userId, user.displayName, now, now);
    }
  })();
}

/** Seeds a migrated PostgreSQL database, a few thousand rows a statement. */
export async function seedPostgres(client: {
  query(text: string, values?: unknown[]): Promise<unknown>;
}): Promise<void> {
  const { channels, users, memberships } = seedRows();
  const now = Date.now();
  const chunks = <T>(rows: readonly T[], size = 5_000) =>
    Array.from({ length: Math.ceil(rows.length / size) }, (_, i) => rows.slice(i * size, (i + 1) * size));
  await client.query("BEGIN");
  // The triggers' work done once at the end, as migration 016 does: row by row it takes minutes.
  await client.query("SET LOCAL session_replication_role = replica");
  for (const part of chunks(channels)) {
    await client.query(
      `INSERT INTO channels (name, room_id, alias, created_at, join_rule, topic, closed_at)
       SELECT n, '!' || n || ':${BENCH_SERVER}', '#chat_' || n || ':${BENCH_SERVER}', $1, j, t, c
       FROM unnest($2::text[], $3::text[], $4::text[], $5::bigint[]) AS x(n, j, t, c)`,
      [
        now,
        part.map((c) => c.name),
        part.map((c) => c.joinRule),
        part.map((c) => c.topic),
        part.map((c) => (c.closed ? now : null)),
      ],
    );
  }
  await client.query(
    `INSERT INTO channel_settings (channel_id, guests) SELECT id, false FROM channels WHERE name = ANY($1)`,
    [channels.filter((c) => !c.guests).map((c) => c.name)],
  );
  const natives = users.filter((u) => u.native);
  for (const part of chunks(natives)) {
    await client.query(
      `INSERT INTO native_users (user_id, localpart, display_name, is_guest, created_at)
       SELECT u, l, d, g, $1 FROM unnest($2::text[], $3::text[], $4::text[], $5::boolean[]) AS x(u, l, d, g)`,
      [
        now,
        part.map((u) => u.userId),
        part.map((u) => u.localpart),
        part.map((u) => u.displayName),
        part.map((u) => u.guest),
      ],
    );
  }
  for (const part of chunks(memberships)) {
    await client.query(
      `INSERT INTO members (channel_id, user_id, membership, display_name, updated_at, last_seen)
       SELECT c.id, x.u, 'join', x.d, $1, $1 FROM unnest($2::text[], $3::text[], $4::text[]) AS x(n, u, d)
       JOIN channels c ON c.name = x.n`,
      [
        now,
        part.map((m) => channelName(m.channel)),
        part.map((m) => (users[m.user] as SeedUser).userId),
        part.map((m) => (users[m.user] as SeedUser).displayName),
      ],
    );
  }
  await client.query(`UPDATE channels SET member_count =
    (SELECT COUNT(*) FROM members m WHERE m.channel_id = channels.id AND m.membership = 'join')`);
  await client.query(`INSERT INTO user_directory (user_id, display_name, avatar_url, updated_at, search, kind)
    SELECT user_id, display_name, avatar_url, created_at, lower(user_id || chr(10) || COALESCE(display_name, '')),
      CASE WHEN localpart LIKE 'api-%' OR localpart LIKE 'hook-%' THEN 'integration'
        WHEN is_guest THEN 'guest' ELSE 'native' END FROM native_users`);
  await client.query(`INSERT INTO user_directory (user_id, display_name, avatar_url, updated_at, search)
    SELECT DISTINCT ON (user_id) user_id, display_name, avatar_url, updated_at,
      lower(user_id || chr(10) || COALESCE(display_name, '')) FROM members
    ORDER BY user_id, updated_at DESC ON CONFLICT (user_id) DO NOTHING`);
  await client.query("COMMIT");
  await client.query("ANALYZE");
}
