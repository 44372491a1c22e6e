import { describe, expect, it } from "vitest";
import { createAuthenticator, signToken } from "../../src/auth/jwt.ts";
import { isProtocolError } from "../../src/protocol/errors.ts";

const secret = "k".repeat(40);
const DAY = 24 * 3600;
const authFor = (guests: boolean, key = secret) =>
  createAuthenticator({ secret: key, guests, maxTokenLifetimeS: 30 * DAY });

const codeOf = async (promise: Promise<unknown>) => {
  try {
    await promise;
    return "ok";
  } catch (error) {
    return isProtocolError(error) ? error.code : "other";
  }
};

describe("the authenticator", () => {
  it("accepts a signed token and reads its claims", async () => {
    const auth = authFor(false);
    const identity = await auth.verifyToken(
      await signToken(secret, { sub: "alice", name: "Alice", admin: true }),
    );
    expect(identity).toMatchObject({ localpart: "alice", isGuest: false, admin: true, displayName: "Alice" });
    expect(identity.claims).toMatchObject({ sub: "alice", name: "Alice", admin: true });
  });

  it("refuses expired tokens and foreign secrets with distinct codes", async () => {
    const auth = authFor(false);
    expect(await codeOf(auth.verifyToken(await signToken(secret, { sub: "a" }, -10)))).toBe(
      "auth.expired_token",
    );
    expect(await codeOf(auth.verifyToken(await signToken("o".repeat(40), { sub: "a" })))).toBe(
      "auth.invalid_token",
    );
    expect(await codeOf(auth.verifyToken(await signToken(secret, { sub: "UPPER" })))).toBe(
      "auth.invalid_token",
    );
  });

  it("derives a stable guest name that does not reveal the client id", () => {
    const auth = authFor(true);
    const a = auth.guest("client-id-0001");
    expect(a).toEqual(auth.guest("client-id-0001"));
    expect(a.localpart).not.toContain("client");
    expect(auth.guest("client-id-0002").localpart).not.toBe(a.localpart);
    expect(authFor(true, "z".repeat(40)).guest("client-id-0001").localpart).not.toBe(a.localpart);
  });

  it("refuses an exp beyond the longest lifetime, and guest names in tokens", async () => {
    const auth = authFor(false);
    expect(await codeOf(auth.verifyToken(await signToken(secret, { sub: "a" }, 31 * DAY)))).toBe(
      "auth.invalid_token",
    );
    expect(await codeOf(auth.verifyToken(await signToken(secret, { sub: "a" }, 29 * DAY)))).toBe("ok");
    const { SignJWT } = await import("jose");
    const forever = await new SignJWT({ sub: "a", exp: 1e308 })
      .setProtectedHeader({ alg: "HS256" })
      .sign(new TextEncoder().encode(secret));
    expect(await codeOf(auth.verifyToken(forever))).toBe("auth.invalid_token");
    const guestName = authFor(true).guest("client-id-0001").localpart;
    expect(guestName.startsWith("guest-")).toBe(true);
    expect(await codeOf(auth.verifyToken(await signToken(secret, { sub: guestName })))).toBe(
      "auth.invalid_token",
    );
    expect(await codeOf(auth.verifyToken(await signToken(secret, { sub: "a", name: "x\ud800" })))).toBe(
      "auth.invalid_token",
    );
  });

  it("refuses guests when they are off", () => {
    expect(() => authFor(false).guest("client-id-0001")).toThrow(/Guests are not allowed/);
  });
});
