// Copies the wire contract (src/protocol/wire.ts) into the client SDK, which is published on its
// own and cannot import the server's sources. `npm run build` runs it; the unit test
// test/unit/protocol-sync.test.ts fails when the copy is out of date.
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const SOURCE = fileURLToPath(new URL("../src/protocol/wire.ts", import.meta.url));
export const TARGET = fileURLToPath(new URL("../packages/client/src/protocol.ts", import.meta.url));

const HEADER =
  "// GENERATED from src/protocol/wire.ts by scripts/sync-protocol.ts (npm run build): do not edit here.\n";

/** The SDK's copy, as it must read. */
export const expectedCopy = (): string => HEADER + readFileSync(SOURCE, "utf8");

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(TARGET, expectedCopy());
}
