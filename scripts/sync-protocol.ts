// Copies the wire contract (src/protocol/wire.ts) into the client SDK, which is published on its
// own and cannot import the server's sources: `npm run sync-protocol` writes the copy, and
// `npm run build` (so `make test` too) runs this with --check and stops when the committed copy
// is out of date (as does the unit test test/unit/protocol-sync.test.ts).
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const SOURCE = fileURLToPath(new URL("../src/protocol/wire.ts", import.meta.url));
export const TARGET = fileURLToPath(new URL("../packages/client/src/protocol.ts", import.meta.url));

const HEADER =
  "// GENERATED from src/protocol/wire.ts by scripts/sync-protocol.ts (npm run build): do not edit here.\n";

/** The SDK's copy, as it must read. */
export const expectedCopy = (): string => HEADER + readFileSync(SOURCE, "utf8");

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (!process.argv.includes("--check")) writeFileSync(TARGET, expectedCopy());
  else if (readFileSync(TARGET, "utf8") !== expectedCopy()) {
    process.stderr.write(
      "packages/client/src/protocol.ts is out of date with src/protocol/wire.ts: run npm run sync-protocol\n",
    );
    process.exitCode = 1;
  }
}
