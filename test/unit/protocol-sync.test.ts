import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { expectedCopy, TARGET } from "../../scripts/sync-protocol.ts";

describe("one source of protocol types", () => {
  it("the SDK's packages/client/src/protocol.ts is the current copy of src/protocol/wire.ts (npm run build)", () => {
    expect(readFileSync(TARGET, "utf8")).toBe(expectedCopy());
  });
});
