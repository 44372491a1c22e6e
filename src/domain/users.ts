// Users: native users (puppets we own, with profiles kept here) and Matrix users (profiles as the
// homeserver reports them). Everyone is addressed by Matrix user id.
import type { Logger } from "../logging.ts";
import type { Profile, UserView } from "../protocol/events.ts";
import type { UserId } from "../protocol/ids.ts";
import { KeyedQueue } from "../shared/keyed-queue.ts";
import type { Naming } from "./naming.ts";
import type { MatrixPort } from "./ports/matrix.ts";
import { type RateRule, type SharedRateLimiter, takeSharedOrThrow } from "./ports/rate-limit.ts";
import type { NativeUserRow, Store } from "./ports/store.ts";

export interface NativeIdentity {
  readonly localpart: string;
  readonly isGuest: boolean;
  /** A display name the token vouches for (JWT `name`); replaces the stored one. */
  readonly displayName?: string | undefined;
  readonly claims?: Readonly<Record<string, unknown>>;
}

export interface Users {
  /** Creates or refreshes the native user behind a login. */
  login(identity: NativeIdentity): Promise<NativeUserRow>;
  native(userId: UserId): Promise<NativeUserRow | undefined>;
  /** The native user behind a puppet id, known or not yet logged in (no profile then). */
  ensureNative(userId: UserId): Promise<NativeUserRow>;
  /** What we know locally, without asking the homeserver. */
  knownView(userId: UserId): Promise<UserView | undefined>;
  /**
   * Local knowledge first, then the homeserver's profile; undefined when nobody has this id. A
   * homeserver lookup costs `asker` a request from their budget (it may cross federation).
   */
  fetch(userId: UserId, asker?: { readonly userId: UserId }): Promise<UserView | undefined>;
  /** Sets the profile, on Matrix first (when the puppet exists there), then locally. */
  updateProfile(userId: UserId, profile: Profile): Promise<UserView>;
  /**
   * Registers the puppet (once) and brings its Matrix display name up to the user's current one.
   * Cheap when both are done: the outbox calls it before each action of the puppet.
   */
  preparePuppet(userId: UserId): Promise<void>;
  /** Native people (no guests, no integrations) whose name or display name contains `term`. */
  search(term: string, limit: number): Promise<NativeUserRow[]>;
}

const NO_PROFILE: Profile = { display_name: null, avatar_url: null };

export const nativeView = (user: NativeUserRow): UserView => ({
  id: user.userId,
  profile: { display_name: user.displayName, avatar_url: user.avatarUrl },
});

/** Matrix users' profiles (and their absence) are remembered this long, for this many users. */
const PROFILE_TTL_MS = 60_000;
/** A lookup that failed is not tried again for this long (its answer meanwhile: the same error). */
const FAILED_LOOKUP_TTL_MS = 10_000;
const PROFILE_CACHE_SIZE = 10_000;

export interface UsersDeps {
  readonly store: Store;
  readonly matrix: MatrixPort;
  readonly naming: Naming;
  /** Homeserver lookups are charged to the asker's request budget. */
  readonly lookups: { readonly limiter: SharedRateLimiter; readonly rule: RateRule };
  readonly log: Logger;
}

type CachedProfile =
  | { readonly at: number; readonly view: UserView | undefined }
  | { readonly at: number; readonly failure: unknown };

export function createUsers(deps: UsersDeps): Users {
  const { store, matrix, naming, lookups, log } = deps;
  const native = (userId: UserId) => store.nativeUser(userId);
  const remoteProfiles = new Map<UserId, CachedProfile>();
  const remember = (userId: UserId, entry: CachedProfile) => {
    remoteProfiles.delete(userId);
    remoteProfiles.set(userId, entry);
    if (remoteProfiles.size > PROFILE_CACHE_SIZE) {
      const oldest = remoteProfiles.keys().next().value;
      if (oldest !== undefined) remoteProfiles.delete(oldest);
    }
  };
  const remoteProfile = async (userId: UserId, asker?: { userId: UserId }): Promise<UserView | undefined> => {
    const now = Date.now();
    const cached = remoteProfiles.get(userId);
    if (cached && "failure" in cached && now - cached.at < FAILED_LOOKUP_TTL_MS) throw cached.failure;
    if (cached && "view" in cached && now - cached.at < PROFILE_TTL_MS) return cached.view;
    if (asker) await takeSharedOrThrow(lookups.limiter, `requests:${asker.userId}`, lookups.rule);
    try {
      const profile = await matrix.getProfile(userId);
      const view = profile && { id: userId, profile: { ...NO_PROFILE, ...profile } };
      remember(userId, { at: now, view });
      return view;
    } catch (failure) {
      remember(userId, { at: now, failure });
      throw failure;
    }
  };

  const knownView = async (userId: UserId): Promise<UserView | undefined> => {
    const user = await native(userId);
    if (user) return nativeView(user);
    const profile = await store.lastKnownProfile(userId);
    return profile && { id: userId, profile };
  };

  /** Name changes reach Matrix one at a time per user, so an older one never lands last. */
  const profileQueue = new KeyedQueue<UserId>();
  const syncDisplayName = (userId: UserId) =>
    profileQueue.run(userId, async () => {
      const user = await native(userId);
      if (!user || user.displayName === null || user.displayName === user.matrixDisplayName) return;
      await matrix.setDisplayName(userId, user.displayName);
      await store.setMatrixDisplayName(userId, user.displayName);
    });

  return {
    async login(identity) {
      const userId = naming.nativeUserId(identity.localpart);
      let user = await store.upsertNativeUser({
        userId,
        localpart: identity.localpart,
        isGuest: identity.isGuest,
      });
      if (identity.claims) await store.setClaims(userId, identity.claims);
      if (identity.displayName !== undefined && identity.displayName !== user.displayName) {
        // The Matrix side catches up in preparePuppet, the next time the user acts there.
        await store.setNativeProfile(userId, {
          display_name: identity.displayName,
          avatar_url: user.avatarUrl,
        });
        user = (await native(userId)) ?? user;
      }
      return user;
    },
    native,
    async ensureNative(userId) {
      const known = await native(userId);
      if (known) return known;
      const localpart = naming.nativeLocalpart(userId);
      if (localpart === undefined) throw new Error(`${userId} is not a native user`);
      return store.upsertNativeUser({ userId, localpart, isGuest: localpart.startsWith("guest-") });
    },
    knownView,
    async fetch(userId, asker) {
      const known = await knownView(userId);
      if (known) return known;
      if (naming.isNativeUser(userId) || userId === naming.botUserId) return undefined;
      return remoteProfile(userId, asker);
    },
    async updateProfile(userId, profile) {
      const user = await native(userId);
      if (!user) throw new Error(`updateProfile for unknown native user ${userId}`);
      // Native first: the name holds at once; Matrix follows now, or when the puppet next acts.
      await store.setNativeProfile(userId, profile);
      if (await store.isPuppetRegistered(userId)) {
        try {
          await syncDisplayName(userId);
        } catch (error) {
          log.warn(`the Matrix name of ${userId} follows when the puppet next acts`, error);
        }
      }
      return { id: userId, profile };
    },
    async preparePuppet(userId) {
      await matrix.ensurePuppet(userId);
      await syncDisplayName(userId);
    },
    search: (term, limit) => store.searchNativeUsers(term, limit),
  };
}
