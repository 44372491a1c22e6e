// Client authentication: HS256 JWTs from the app's backend, or guests by a client-kept id.
import { createHmac } from "node:crypto";
import { errors as joseErrors, jwtVerify, SignJWT } from "jose";
import { z } from "zod";
import { ProtocolError } from "../protocol/errors.ts";
import { NATIVE_NAME_PATTERN } from "../protocol/ids.ts";

export interface Identity {
  readonly localpart: string;
  readonly isGuest: boolean;
  readonly admin: boolean;
  readonly displayName?: string | undefined;
  /** Every claim of the token, for channel join policies (`required_claim`). */
  readonly claims: Readonly<Record<string, unknown>>;
}

const ALGORITHMS = ["HS256"];

/** Guests' names start with this; no token may claim one (they are different people). */
export const GUEST_PREFIX = "guest-";
/** The server API's integrations and channels' webhooks post as users named with these. */
export const INTEGRATION_PREFIXES = ["api-", "hook-"] as const;

const claimsSchema = z.object({
  sub: z
    .string()
    .regex(NATIVE_NAME_PATTERN, "sub must be 1-64 of a-z 0-9 . _ = -")
    .refine(
      (sub) => !sub.startsWith(GUEST_PREFIX),
      `sub must not start with ${GUEST_PREFIX} (kept for guests)`,
    )
    .refine(
      (sub) => !INTEGRATION_PREFIXES.some((prefix) => sub.startsWith(prefix)),
      "sub must not start with api- or hook- (kept for integrations and webhooks)",
    ),
  // Fractional seconds are valid JWT; how far ahead is bounded below (max_token_lifetime_s).
  exp: z.number().finite(),
  name: z
    .string()
    .trim()
    .min(1)
    .max(100)
    .refine((name) => name.isWellFormed(), "name must be valid Unicode")
    .optional(),
  admin: z.boolean().optional(),
});

export interface Authenticator {
  verifyToken(token: string): Promise<Identity>;
  guest(clientId: string): Identity;
}

export interface AuthOptions {
  readonly secret: string;
  readonly guests: boolean;
  /** Tokens whose exp lies further ahead than this are refused: no token lives for ever. */
  readonly maxTokenLifetimeS: number;
}

export function createAuthenticator(options: AuthOptions): Authenticator {
  const { secret, guests: guestsAllowed, maxTokenLifetimeS } = options;
  const key = new TextEncoder().encode(secret);
  return {
    async verifyToken(token) {
      let payload: unknown;
      try {
        ({ payload } = await jwtVerify(token, key, {
          algorithms: ALGORITHMS,
          requiredClaims: ["exp", "sub"],
        }));
      } catch (error) {
        if (error instanceof joseErrors.JWTExpired) throw new ProtocolError("auth.expired_token");
        throw new ProtocolError("auth.invalid_token");
      }
      const claims = claimsSchema.safeParse(payload);
      if (!claims.success) {
        throw new ProtocolError(
          "auth.invalid_token",
          `The token's claims are invalid: ${claims.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
        );
      }
      if (claims.data.exp > Date.now() / 1000 + maxTokenLifetimeS) {
        throw new ProtocolError(
          "auth.invalid_token",
          `The token's exp lies more than ${maxTokenLifetimeS} s ahead; issue shorter-lived tokens.`,
        );
      }
      return {
        localpart: claims.data.sub,
        isGuest: false,
        admin: claims.data.admin === true,
        displayName: claims.data.name,
        claims: payload as Record<string, unknown>,
      };
    },
    guest(clientId) {
      if (!guestsAllowed)
        throw new ProtocolError("auth.denied", "Guests are not allowed here; log in with a token.");
      // The client_id is the guest's only credential: never put it in a public user id.
      const digest = createHmac("sha256", key).update(clientId).digest("hex").slice(0, 20);
      return { localpart: `${GUEST_PREFIX}${digest}`, isGuest: true, admin: false, claims: {} };
    },
  };
}

/** Signs a token the way an app's backend would; for `parley token` and the tests. */
export async function signToken(
  secret: string,
  claims: { sub: string; name?: string; admin?: boolean; [claim: string]: unknown },
  ttlSeconds = 24 * 3600,
): Promise<string> {
  return new SignJWT({ ...claims })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds)
    .sign(new TextEncoder().encode(secret));
}
