// The protocol reference documents every error code and every action the server accepts.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ACTION_NAMES } from "../../src/handlers/router.ts";
import { CLOSE_CODES } from "../../src/protocol/close-codes.ts";
import { ERROR_CODES } from "../../src/protocol/errors.ts";

const reference = readFileSync(new URL("../../docs/protocol.md", import.meta.url), "utf8");
const errorTable = reference.slice(reference.indexOf("## Error codes"));

describe("docs/protocol.md", () => {
  it.each(Object.keys(ERROR_CODES))("documents the error code %s in its table", (code) => {
    expect(errorTable).toContain(`| \`${code}\` |`);
  });

  it("documents no error code the server does not have", () => {
    const documented = [...errorTable.matchAll(/^\| `([a-z_.]+)` \|/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual(Object.keys(ERROR_CODES).sort());
  });

  it.each(ACTION_NAMES)("documents the action %s", (action) => {
    expect(reference).toContain(`\`${action}\``);
  });

  it.each(Object.values(CLOSE_CODES).map((c) => [c.code, c.reconnect] as const))(
    "documents the close code %s, and whether to reconnect after it as the table says (%s)",
    (code, reconnect) => {
      const row = reference.split("\n").find((line) => line.startsWith(`| ${code} |`));
      expect(row).toBeDefined();
      expect(
        row
          ?.split("|")
          .at(-2)
          ?.trim()
          .startsWith(reconnect ? "yes" : "no"),
      ).toBe(true);
    },
  );
});
