// The authenticate handshake: tokens, guests, and every auth error code.
import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestClient } from "../support/client.ts";
import { startTestParley, type TestParley, unique } from "../support/parley.ts";

let parley: TestParley;
beforeAll(async () => {
  parley = await startTestParley();
});
afterAll(async () => {
  await parley?.stop();
});

const sign = (claims: Record<string, unknown>, secret = parley.env.jwtSecret, alg = "HS256") =>
  new SignJWT(claims).setProtectedHeader({ alg }).sign(new TextEncoder().encode(secret));
const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;

async function authError(payload: Record<string, unknown>): Promise<string> {
  const client = await TestClient.connect(parley.url());
  const reply = await client.authenticate(payload);
  expect(reply[0]).toBe("error");
  expect(reply).toHaveLength(2);
  // The connection survives a failed authenticate and can still ping.
  await client.ping();
  client.close();
  return String((reply[1] as { code: string }).code);
}

describe("authenticate", () => {
  it("a valid token yields the user with its profile and joined channels", async () => {
    const name = unique("tok");
    const client = await TestClient.connect(parley.url());
    const reply = await client.authenticate({ token: await parley.token(name, "Token User") });
    expect(reply).toEqual([
      "authenticated",
      {
        user: { id: `@chat_${name}:localhost`, profile: { display_name: "Token User", avatar_url: null } },
        "chat.channels": [],
        "chat.read_pointers": {},
        "chat.notification_counts": {},
      },
    ]);
    const channel = unique("mine");
    await client.ok("chat.join", { channel });
    client.close();
    const again = await TestClient.connect(parley.url());
    const second = await again.authenticate({ token: await parley.token(name) });
    expect((second[1] as Record<string, unknown>)["chat.channels"]).toEqual([
      { id: channel, unread_pointer: 0 },
    ]);
    // Without a name claim the stored profile stays.
    expect((second[1] as { user: unknown }).user).toEqual({
      id: `@chat_${name}:localhost`,
      profile: { display_name: "Token User", avatar_url: null },
    });
    expect(await again.errorCode("chat.join", { channel: "" }).catch(() => "x")).toBe(
      "protocol.invalid_payload",
    );
    const replay = await again.authenticate({ token: await parley.token(name) });
    expect(replay).toEqual(["error", expect.objectContaining({ code: "auth.already_authenticated" })]);
    again.close();
  });

  it("the same client_id is the same guest, and the id does not leak into the user id", async () => {
    const clientId = crypto.randomUUID();
    const first = await TestClient.login(parley.url(), { client_id: clientId });
    const second = await TestClient.login(parley.url(), { client_id: clientId });
    const userIdOf = (client: TestClient) =>
      (client.received[0] as [string, { user: { id: string } }])[1].user.id;
    const id1 = userIdOf(first);
    const id2 = userIdOf(second);
    expect(id1).toBe(id2);
    expect(id1).toMatch(/^@chat_guest-[0-9a-f]{20}:localhost$/);
    expect(id1).not.toContain(clientId.slice(0, 8));
    first.close();
    second.close();
  });

  it("missing credentials: auth.missing_id_or_token", async () => {
    expect(await authError({})).toBe("auth.missing_id_or_token");
  });

  it("a bad signature, a wrong algorithm, garbage, or a bad sub: auth.invalid_token", async () => {
    expect(await authError({ token: await sign({ sub: "mallory", exp: inAnHour() }, "x".repeat(40)) })).toBe(
      "auth.invalid_token",
    );
    expect(
      await authError({
        token: await sign({ sub: "mallory", exp: inAnHour() }, parley.env.jwtSecret, "HS512"),
      }),
    ).toBe("auth.invalid_token");
    expect(await authError({ token: "not.a.jwt" })).toBe("auth.invalid_token");
    expect(await authError({ token: await sign({ sub: "Mallory Upper", exp: inAnHour() }) })).toBe(
      "auth.invalid_token",
    );
    expect(await authError({ token: await sign({ sub: "noexp" }) })).toBe("auth.invalid_token");
    const unsigned = `${Buffer.from('{"alg":"none"}').toString("base64url")}.${Buffer.from(`{"sub":"x","exp":${inAnHour()}}`).toString("base64url")}.`;
    expect(await authError({ token: unsigned })).toBe("auth.invalid_token");
  });

  it("an expired token: auth.expired_token", async () => {
    expect(
      await authError({ token: await sign({ sub: "late", exp: Math.floor(Date.now() / 1000) - 60 }) }),
    ).toBe("auth.expired_token");
  });

  it("guests where guests are off: auth.denied", async () => {
    // One Parley at a time owns the appservice port.
    await parley.stop();
    const strict = await startTestParley({ guests: false });
    try {
      const client = await TestClient.connect(strict.url());
      const reply = await client.authenticate({ client_id: crypto.randomUUID() });
      expect(reply).toEqual(["error", expect.objectContaining({ code: "auth.denied" })]);
      client.close();
    } finally {
      await strict.stop();
      // The main instance owns the appservice port again.
      await parley.restart();
    }
  });

  it("ping works before authentication", async () => {
    const client = await TestClient.connect(parley.url());
    client.send(["ping", 12345]);
    expect(await client.waitFor((f) => f[0] === "pong")).toEqual(["pong", 12345]);
    client.close();
  });
});
