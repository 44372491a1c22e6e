// The OpenAPI document is generated from the schemas the server validates with; this fails when
// the committed docs/openapi.json no longer says what they say (run `npm run openapi`), and checks
// that the document describes each operation the router serves, with its errors.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { DOCUMENT_PATH, expectedDocument } from "../../scripts/openapi.ts";
import { API_OPERATIONS } from "../../src/api/operations/index.ts";

const document = JSON.parse(expectedDocument()) as {
  openapi: string;
  paths: Record<
    string,
    Record<
      string,
      {
        operationId: string;
        responses: Record<string, unknown>;
        parameters: Array<{ name: string; in: string }>;
      }
    >
  >;
};

describe("the OpenAPI document", () => {
  it("is the one committed in docs/openapi.json (npm run openapi)", () => {
    expect(readFileSync(DOCUMENT_PATH, "utf8")).toBe(expectedDocument());
  });

  it("is OpenAPI 3.1 with every operation, its path parameters and its error answers", () => {
    expect(document.openapi).toBe("3.1.0");
    const ids = new Set<string>();
    for (const operation of API_OPERATIONS) {
      const described = document.paths[operation.path]?.[operation.method.toLowerCase()];
      expect(described?.operationId, `${operation.method} ${operation.path}`).toBe(operation.operationId);
      ids.add(operation.operationId);
      const placeholders = [...operation.path.matchAll(/\{(\w+)\}/g)].map((match) => match[1]);
      expect(described?.parameters.filter((p) => p.in === "path").map((p) => p.name)).toEqual(placeholders);
      expect(Object.keys(described?.responses ?? {})).toEqual(expect.arrayContaining(["403", "429", "503"]));
    }
    expect(ids.size).toBe(API_OPERATIONS.length);
  });

  it("documents what the contract (SERVER-API.md) lists", () => {
    const listed = Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`),
    );
    for (const required of [
      "GET /api/v1/channels",
      "PUT /api/v1/channels/{channel}",
      "GET /api/v1/channels/{channel}",
      "DELETE /api/v1/channels/{channel}",
      "GET /api/v1/channels/{channel}/members",
      "PUT /api/v1/channels/{channel}/members/{user}",
      "DELETE /api/v1/channels/{channel}/members/{user}",
      "POST /api/v1/channels/{channel}/messages",
      "GET /api/v1/channels/{channel}/messages",
      "POST /api/v1/channels/{channel}/moderation",
      "POST /api/v1/users/{user}/notify",
      "POST /api/v1/users/{user}/ban",
      "POST /api/v1/users/{user}/silence",
      "POST /api/v1/users/{user}/reactivate",
      "POST /api/v1/channels/{channel}/webhooks",
      "GET /api/v1/channels/{channel}/webhooks",
      "DELETE /api/v1/channels/{channel}/webhooks/{id}",
      "POST /api/v1/subscriptions",
      "GET /api/v1/subscriptions",
      "DELETE /api/v1/subscriptions/{id}",
    ]) {
      expect(listed).toContain(required);
    }
  });
});
