// Writes the server API's OpenAPI document (generated from the operations' zod schemas) to
// docs/openapi.json, for readers and tools that want it without a running Parley. The unit test
// test/unit/openapi.test.ts fails when the committed file and the schemas drift apart; `npm run
// openapi` brings the file up to date.
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { openApiDocument } from "../src/api/openapi.ts";
import { API_OPERATIONS } from "../src/api/operations/index.ts";

export const DOCUMENT_PATH = fileURLToPath(new URL("../docs/openapi.json", import.meta.url));

export const packageVersion = (): string =>
  (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string })
    .version;

/** The document as it must read. */
export const expectedDocument = (): string =>
  `${JSON.stringify(openApiDocument(API_OPERATIONS, packageVersion()), null, 2)}\n`;

if (process.argv[1] === fileURLToPath(import.meta.url)) writeFileSync(DOCUMENT_PATH, expectedDocument());
