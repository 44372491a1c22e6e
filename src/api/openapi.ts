// The OpenAPI 3.1 document, generated from the operations' own zod schemas (zod's JSON Schema
// output, which is what OpenAPI 3.1 uses): what is validated is what is documented.
import { z } from "zod";
import type { ApiOperation } from "./define.ts";
import { errorAnswer } from "./schemas.ts";

type JsonSchema = Record<string, unknown>;

const jsonSchema = (schema: z.ZodType, io: "input" | "output"): JsonSchema => {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io, target: "draft-2020-12" }) as JsonSchema;
  return rest;
};

const ERROR_REF = { $ref: "#/components/schemas/Error" };
const errorResponse = (description: string) => ({
  description,
  content: { "application/json": { schema: ERROR_REF } },
});

/** The error answers an operation can give, besides its own successes. */
function errorResponses(operation: ApiOperation): Record<string, unknown> {
  const takesInput = operation.params ?? operation.query ?? operation.body;
  return {
    ...(takesInput
      ? { 400: errorResponse("Invalid input: `protocol.invalid_payload` with `fields`, or another refusal") }
      : { 400: errorResponse("Refused, e.g. `chat.empty`") }),
    ...(operation.scope === null
      ? {}
      : { 401: errorResponse("`api.unauthorized`: no key, or not a live one") }),
    403: errorResponse("`api.forbidden` (the key's scope) or `chat.denied`, `channel.banned`, ..."),
    ...(operation.notFound || operation.params
      ? { 404: errorResponse("`chat.unknown`, `user.not_found`") }
      : {}),
    ...(operation.body ? { 413: errorResponse("`http.payload_too_large`") } : {}),
    429: {
      ...errorResponse("`rate_limited`: wait `Retry-After` seconds"),
      headers: { "Retry-After": { schema: { type: "integer" }, description: "Seconds to wait" } },
    },
    503: errorResponse("`upstream.unavailable`: the homeserver is needed now and cannot be reached"),
  };
}

function parameters(schema: z.ZodType | undefined, where: "path" | "query"): unknown[] {
  if (!(schema instanceof z.ZodObject)) return [];
  return Object.entries(schema.shape as Record<string, z.ZodType>).map(([name, field]) => {
    const described = jsonSchema(field, "input");
    const { description, ...fieldSchema } = described;
    return {
      name,
      in: where,
      required: where === "path" || !field.safeParse(undefined).success,
      ...(typeof description === "string" ? { description } : {}),
      schema: fieldSchema,
    };
  });
}

export function openApiDocument(operations: readonly ApiOperation[], version: string): JsonSchema {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const operation of operations) {
    const responses: Record<string, unknown> = {};
    for (const [status, { description, schema }] of Object.entries(operation.responses)) {
      responses[status] = {
        description,
        content: { "application/json": { schema: jsonSchema(schema, "output") } },
      };
    }
    const body = operation.body;
    paths[operation.path] ??= {};
    (paths[operation.path] as Record<string, unknown>)[operation.method.toLowerCase()] = {
      operationId: operation.operationId,
      summary: operation.summary,
      ...(operation.description ? { description: operation.description } : {}),
      tags: [operation.tag],
      ...(operation.scope === null ? { security: [] } : { "x-parley-scope": operation.scope }),
      parameters: [...parameters(operation.params, "path"), ...parameters(operation.query, "query")],
      ...(body
        ? {
            requestBody: {
              required: !body.safeParse(undefined).success,
              content: { "application/json": { schema: jsonSchema(body, "input") } },
            },
          }
        : {}),
      responses: { ...responses, ...errorResponses(operation) },
    };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Parley server API",
      version,
      description:
        "For the backend of the platform that embeds Parley: channels, members, messages, moderation, " +
        "users, webhooks and event subscriptions. Keys come from `parley api-key create`; scopes are " +
        "`read` < `post` < `admin` (`x-parley-scope` names the least one each operation needs).",
    },
    servers: [{ url: "/" }],
    security: [{ apiKey: [] }],
    tags: [...new Set(operations.map((operation) => operation.tag))].map((name) => ({ name })),
    paths,
    components: {
      securitySchemes: {
        apiKey: { type: "http", scheme: "bearer", description: "An API key: parley_<id>_<secret>" },
      },
      schemas: { Error: jsonSchema(errorAnswer, "output") },
    },
  };
}
