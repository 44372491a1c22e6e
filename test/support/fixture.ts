// The usual end-to-end cast: a Parley, an ordinary Matrix user "Carol", and native clients that are
// closed after the file. Registers its own beforeAll/afterAll hooks.
import { afterAll, beforeAll } from "vitest";
import { signToken } from "../../src/auth/jwt.ts";
import { TestClient } from "./client.ts";
import { MatrixUser } from "./matrix-user.ts";
import { startTestParley, type TestOverrides, type TestParley, unique } from "./parley.ts";

export interface ChatFixture {
  readonly parley: TestParley;
  readonly carol: MatrixUser;
  /** Logs a native user in over a new connection. */
  login(name: string, displayName?: string): Promise<TestClient>;
  /** Logs a new platform admin (JWT `admin: true`) in. */
  loginAdmin(): Promise<TestClient>;
  /** Stops this file's Parley and starts another (a new database), e.g. with other settings. */
  replaceParley(options?: TestOverrides): Promise<void>;
}

export function chatFixture(options: TestOverrides = {}): ChatFixture {
  let parley: TestParley | undefined;
  let carol: MatrixUser | undefined;
  const clients: TestClient[] = [];
  beforeAll(async () => {
    parley = await startTestParley(options);
    carol = await MatrixUser.register(parley.env.homeserverUrl, unique("carol"), "Carol");
  });
  afterAll(async () => {
    for (const client of clients) client.close();
    carol?.stop();
    await parley?.stop();
  });
  const started = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`${what} is not started (use the fixture inside tests)`);
    return value;
  };
  return {
    get parley() {
      return started(parley, "Parley");
    },
    get carol() {
      return started(carol, "The Matrix user");
    },
    async login(name, displayName) {
      const p = started(parley, "Parley");
      const client = await TestClient.login(p.url(), { token: await p.token(name, displayName) });
      clients.push(client);
      return client;
    },
    async loginAdmin() {
      const p = started(parley, "Parley");
      const token = await signToken(p.env.jwtSecret, { sub: unique("admin"), name: "Admin", admin: true });
      const client = await TestClient.login(p.url(), { token });
      clients.push(client);
      return client;
    },
    async replaceParley(next = {}) {
      await parley?.stop();
      parley = undefined;
      parley = await startTestParley(next);
    },
  };
}
