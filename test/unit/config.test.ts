import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ConfigError, loadConfig, parseConfig } from "../../src/config/load.ts";
import { configSchema } from "../../src/config/schema.ts";

const sampleText = readFileSync(new URL("../../config/parley.sample.yaml", import.meta.url), "utf8");
const sample = parse(sampleText) as Record<string, unknown>;
const OFF_BY_DEFAULT = new Set(["postgres_url", "postgres_url_file", "redis_url", "node_id", "metrics.port"]);

describe("configuration", () => {
  it("the sample config is valid and sets every key the schema knows", () => {
    const parsed = configSchema.safeParse(sample);
    expect(parsed.success).toBe(true);
    const shape = configSchema.shape;
    for (const [section, schema] of Object.entries(shape)) {
      type Section = { shape?: object; unwrap?: () => Section; out?: Section };
      // An object, an object with a default (unwrap), or one read through a preprocess (out).
      const shapeOf = (s: Section): object =>
        s.shape ?? (s.unwrap ? shapeOf(s.unwrap()) : shapeOf(s.out as Section));
      const sectionKeys = Object.keys(shapeOf(schema as unknown as Section));
      for (const key of sectionKeys) {
        if (key === "jwt_secret") continue; // the sample uses jwt_secret_file; only one may be set
        if (OFF_BY_DEFAULT.has(key) || OFF_BY_DEFAULT.has(`${section}.${key}`)) {
          // Setting these changes what Parley is (a node of a cluster): shown, commented out.
          expect(sampleText, `${section}.${key}`).toMatch(new RegExp(`^\\s*# ${key}: `, "m"));
          continue;
        }
        expect(Object.keys((sample[section] ?? {}) as object), `${section}.${key}`).toContain(key);
      }
    }
  });

  it("the dev config is valid", () => {
    const dev = parse(readFileSync(new URL("../../config/dev.yaml", import.meta.url), "utf8"));
    expect(configSchema.safeParse(dev).success).toBe(true);
  });

  it("resolves paths against the config file and reads the secret file", () => {
    const dir = mkdtempSync(join(tmpdir(), "parley-config-"));
    writeFileSync(join(dir, "jwt-secret"), `${"s".repeat(40)}\n`);
    writeFileSync(
      join(dir, "parley.yaml"),
      readFileSync(new URL("../../config/parley.sample.yaml", import.meta.url)),
    );
    const config = loadConfig(join(dir, "parley.yaml"));
    expect(config.auth.jwtSecret).toBe("s".repeat(40));
    expect(config.store.sqlitePath).toBe(join(dir, "data/parley.db"));
    expect(Object.isFrozen(config)).toBe(true);
  });

  it("refuses bad files with a readable message", () => {
    const base = {
      homeserver: { url: "http://h", server_name: "h" },
      appservice: { registration: "r" },
      store: { sqlite_path: "p" },
    };
    expect(() => parseConfig({ ...base, auth: {} }, "/")).toThrow(
      /exactly one of jwt_secret and jwt_secret_file/,
    );
    expect(() => parseConfig({ ...base, auth: { jwt_secret: "short" } }, "/")).toThrow(ConfigError);
    expect(() =>
      parseConfig({ ...base, auth: { jwt_secret: "x".repeat(32) }, gateway: { prot: 1 } }, "/"),
    ).toThrow(/prot/);
    expect(() =>
      parseConfig(
        { ...base, homeserver: { url: "nope", server_name: "h" }, auth: { jwt_secret: "x".repeat(32) } },
        "/",
      ),
    ).toThrow(/url/);
    const withRefresh = (ms: number) =>
      parseConfig({ ...base, auth: { jwt_secret: "x".repeat(32) }, chat: { presence_refresh_ms: ms } }, "/");
    expect(() => withRefresh(250)).toThrow(/0 \(never\) or at least 1000 ms\n.*at chat\.presence_refresh_ms/);
    expect(withRefresh(0).chat.presenceRefreshMs).toBe(0);
    expect(withRefresh(25_000).chat.presenceRefreshMs).toBe(25_000);
  });
});
