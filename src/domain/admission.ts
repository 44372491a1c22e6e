// Who may log in, checked before a login is recorded (so a refused one changes nothing): banned
// accounts are refused, and one client address may only make so many new guests, since a guest
// is an account made on the spot. The WebSocket login and the upload endpoint both ask here.
import { ProtocolError } from "../protocol/errors.ts";
import type { UserId } from "../protocol/ids.ts";
import type { Naming } from "./naming.ts";
import { type RateRule, type SharedRateLimiter, takeSharedOrThrow } from "./ports/rate-limit.ts";
import type { Store } from "./ports/store.ts";

export interface Admission {
  /** The user id the login will have, or a refusal (`auth.denied`, `rate_limited`). */
  admit(
    identity: { readonly localpart: string; readonly isGuest: boolean },
    address: string,
  ): Promise<UserId>;
}

export function createAdmission(deps: {
  readonly store: Store;
  readonly naming: Naming;
  readonly limiter: SharedRateLimiter;
  readonly newGuestsPerAddress: RateRule;
}): Admission {
  const { store, naming, limiter, newGuestsPerAddress } = deps;
  return {
    async admit(identity, address) {
      const userId = naming.nativeUserId(identity.localpart);
      if ((await store.userStatus(userId)).banned)
        throw new ProtocolError("auth.denied", "This account is banned.");
      if (identity.isGuest && !(await store.nativeUser(userId))) {
        await takeSharedOrThrow(
          limiter,
          `guests@${address}`,
          newGuestsPerAddress,
          "Too many new guests from this address.",
        );
      }
      return userId;
    },
  };
}
