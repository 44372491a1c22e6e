// The server API's keys: made and revoked by the operator (`parley api-key ...`), shown once,
// stored as a hash. A key is `parley_<id>_<secret>`: the id finds the row, the secret proves it.
// Each key posts as its own integration user, `api-<id>`, named after the key.
import { ProtocolError } from "../../protocol/errors.ts";
import type { UserId } from "../../protocol/ids.ts";
import type { Naming } from "../naming.ts";
import type { ApiKeyRow, ApiScope, Store } from "../ports/store.ts";
import { hashSecret, newPublicId, newSecret, secretMatches } from "./secrets.ts";

export const API_SCOPES: readonly ApiScope[] = ["read", "post", "admin"];

const KEY_PATTERN = /^parley_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

/** What `read` < `post` < `admin` each allow. */
export const scopeAllows = (held: ApiScope, needed: ApiScope): boolean =>
  API_SCOPES.indexOf(held) >= API_SCOPES.indexOf(needed);

export interface ApiKeyView {
  readonly id: string;
  readonly name: string;
  readonly scope: ApiScope;
  readonly created_at: number;
  readonly revoked_at: number | null;
  /** The user its posts come from. */
  readonly user: UserId;
}

export interface ApiKeys {
  /** A new key: the only time its secret exists outside the caller. */
  create(name: string, scope: ApiScope): Promise<ApiKeyView & { readonly key: string }>;
  list(): Promise<ApiKeyView[]>;
  /** False when there is no such key or it was already revoked. */
  revoke(id: string): Promise<boolean>;
  /** The live key a bearer token stands for, or undefined. */
  verify(token: string): Promise<ApiKeyRow | undefined>;
  /** The integration user of a key. */
  userOf(key: Pick<ApiKeyRow, "id">): UserId;
}

export function createApiKeys(store: Store, naming: Naming): ApiKeys {
  const userOf = (key: Pick<ApiKeyRow, "id">) => naming.nativeUserId(`api-${key.id}`);
  const view = (key: ApiKeyRow): ApiKeyView => ({
    id: key.id,
    name: key.name,
    scope: key.scope,
    created_at: key.createdAt,
    revoked_at: key.revokedAt,
    user: userOf(key),
  });
  return {
    async create(name, scope) {
      const trimmed = name.trim();
      if (trimmed.length === 0 || trimmed.length > 100) {
        throw new ProtocolError("protocol.invalid_payload", "A key's name is 1-100 characters.", {
          fields: ["name"],
        });
      }
      const id = newPublicId();
      const secret = newSecret();
      const row: ApiKeyRow = {
        id,
        name: trimmed,
        scope,
        secretHash: hashSecret(secret),
        createdAt: Date.now(),
        revokedAt: null,
      };
      await store.insertApiKey(row);
      // The integration's user exists from the start, named after the key.
      const userId = userOf(row);
      await store.upsertNativeUser({ userId, localpart: `api-${id}`, isGuest: false });
      await store.setNativeProfile(userId, { display_name: trimmed, avatar_url: null });
      return { ...view(row), key: `parley_${id}_${secret}` };
    },
    list: async () => (await store.apiKeys()).map(view),
    revoke: (id) => store.revokeApiKey(id, Date.now()),
    async verify(token) {
      const match = KEY_PATTERN.exec(token);
      if (!match?.[1] || !match[2]) return undefined;
      const key = await store.apiKey(match[1]);
      if (!key || key.revokedAt !== null) return undefined;
      return secretMatches(key.secretHash, match[2]) ? key : undefined;
    },
    userOf,
  };
}
