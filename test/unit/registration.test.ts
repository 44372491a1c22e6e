import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { parseConfig } from "../../src/config/load.ts";
import { buildRegistration, readRegistration, registrationYaml } from "../../src/matrix/registration.ts";

const config = (url: string) =>
  parseConfig(
    {
      homeserver: { url: "http://127.0.0.1:8008", server_name: "chat.example.org" },
      appservice: { registration: "reg.yaml", url },
      auth: { jwt_secret: "x".repeat(32) },
      store: { sqlite_path: "p.db" },
    },
    "/tmp",
  );

describe("the registration", () => {
  it("has fresh tokens, exclusive namespaces, no rate limit and both ephemeral flags", () => {
    const a = buildRegistration(config("http://127.0.0.1:9009"));
    const b = buildRegistration(config("http://127.0.0.1:9009"));
    expect(a.as_token).not.toBe(b.as_token);
    expect(a.hs_token).not.toBe(a.as_token);
    expect(a).toMatchObject({
      id: "parley",
      sender_localpart: "parley",
      rate_limited: false,
      receive_ephemeral: true,
      "de.sorunome.msc2409.push_ephemeral": true,
      namespaces: {
        users: [{ exclusive: true, regex: "@chat_.*:chat\\.example\\.org" }],
        aliases: [{ exclusive: true, regex: "#chat_.*:chat\\.example\\.org" }],
      },
      ip_range_whitelist: ["127.0.0.0/8", "::1/128"],
    });
    expect(new RegExp(`^${a.namespaces.users[0]?.regex}$`).test("@chat_alice:chat.example.org")).toBe(true);
    expect(new RegExp(`^${a.namespaces.users[0]?.regex}$`).test("@chat_alice:chatXexample.org")).toBe(false);
  });

  it("only restricts the token to loopback when Parley is reached over loopback", () => {
    expect(buildRegistration(config("http://parley:9009")).ip_range_whitelist).toBeUndefined();
  });

  it("round-trips through YAML with every field intact", () => {
    const registration = buildRegistration(config("http://127.0.0.1:9009"));
    const path = join(mkdtempSync(join(tmpdir(), "parley-reg-")), "reg.yaml");
    writeFileSync(path, registrationYaml(registration));
    expect(readRegistration(path)).toEqual(registration);
  });
});

describe("the annotated template at the top of the repository", () => {
  const template = new URL("../../registration.yaml", import.meta.url).pathname;

  it("documents the shape a generated registration has: the same keys", () => {
    const generated = buildRegistration(config("http://127.0.0.1:9009"));
    const annotated = parseYaml(readFileSync(template, "utf8")) as Record<string, unknown>;
    expect(Object.keys(annotated).sort()).toEqual(Object.keys(generated).sort());
    expect(Object.keys(annotated.namespaces as object).sort()).toEqual(
      Object.keys(generated.namespaces).sort(),
    );
  });

  it("is refused at start-up, with the command that makes a real one", () => {
    expect(() => readRegistration(template)).toThrow(/placeholders.*parley registration/s);
  });

  it("`parley registration` never writes real tokens into it, and keeps a real one unless --force", () => {
    const dir = mkdtempSync(join(tmpdir(), "parley-reg-"));
    const path = join(dir, "registration.yaml");
    copyFileSync(template, path);
    writeFileSync(join(dir, "secret"), "s".repeat(40));
    writeFileSync(
      join(dir, "parley.yaml"),
      `homeserver: {url: "http://127.0.0.1:8008", server_name: example.org}\nappservice: {registration: ./registration.yaml}\nauth: {jwt_secret_file: ./secret}\nstore: {sqlite_path: ./p.db}\n`,
    );
    const run = (...extra: string[]) =>
      spawnSync(
        process.execPath,
        ["src/main.ts", "registration", "--config", join(dir, "parley.yaml"), ...extra],
        {
          cwd: new URL("../..", import.meta.url).pathname,
          encoding: "utf8",
        },
      );
    const refused = run("--force");
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain("template");
    expect(readFileSync(path, "utf8")).toBe(readFileSync(template, "utf8"));
    rmSync(path);
    expect(run().stdout).toContain("wrote");
    const real = readRegistration(path);
    expect(run().stdout).toContain("keeping it");
    expect(readRegistration(path).as_token).toBe(real.as_token);
  });
});
