// Secrets the server API hands out once (API keys, webhook URLs): random, stored only as a
// SHA-256 hash and compared in constant time. A slow hash buys nothing for 256 random bits.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/** A public id: short, lower-case hex (it also names the integration's puppet). */
export const newPublicId = (): string => randomBytes(6).toString("hex");

/** 256 random bits, URL-safe. */
export const newSecret = (): string => randomBytes(32).toString("base64url");

export const hashSecret = (secret: string): string => createHash("sha256").update(secret).digest("hex");

/** Whether `secret` hashes to `expectedHash`, in time that does not depend on where they differ. */
export function secretMatches(expectedHash: string, secret: string): boolean {
  const actual = Buffer.from(hashSecret(secret), "hex");
  const expected = Buffer.from(expectedHash, "hex");
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
