// One server API operation: its method and path, the scope it needs, the zod schemas it reads
// (path, query, body) and answers with, and its handler. The same definition validates requests
// (src/api/router.ts) and becomes the OpenAPI document (src/api/openapi.ts): they cannot drift.
import type { z } from "zod";
import type { Actor } from "../domain/actor.ts";
import type { ApiKeyRow, ApiScope } from "../domain/ports/store.ts";
import type { ApiServices } from "./services.ts";

export type HttpMethod = "GET" | "PUT" | "POST" | "DELETE";

/** Who is calling: the key, and the integration user it acts as. */
export interface ApiCaller {
  readonly key: ApiKeyRow;
  readonly actor: Actor;
}

export interface ApiContext<P, Q, B> {
  readonly params: P;
  readonly query: Q;
  readonly body: B;
  /** Undefined only for operations without a scope (a webhook's own URL). */
  readonly caller: ApiCaller | undefined;
  readonly services: ApiServices;
}

export interface ApiAnswer {
  readonly status: number;
  readonly body: unknown;
}

export interface ApiOperation<
  P extends z.ZodType = z.ZodType,
  Q extends z.ZodType = z.ZodType,
  B extends z.ZodType = z.ZodType,
> {
  readonly method: HttpMethod;
  /** An OpenAPI path template, `/api/v1/channels/{channel}`. */
  readonly path: string;
  readonly operationId: string;
  readonly summary: string;
  readonly description?: string;
  readonly tag: string;
  /** The least scope a key needs; null: no key (the URL itself is the credential). */
  readonly scope: ApiScope | null;
  readonly params?: P;
  readonly query?: Q;
  readonly body?: B;
  /** Success answers by status, each with its body's schema. */
  readonly responses: Readonly<Record<number, { readonly description: string; readonly schema: z.ZodType }>>;
  /** Whether the operation can answer 404 (it names something that may not exist). */
  readonly notFound?: boolean;
  /** Whether it needs the homeserver at once (it can answer 503). */
  readonly upstream?: boolean;
  handle(context: ApiContext<z.output<P>, z.output<Q>, z.output<B>>): Promise<ApiAnswer>;
}

export const defineOperation = <P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType>(
  operation: ApiOperation<P, Q, B>,
): ApiOperation => operation as unknown as ApiOperation;

export const answer = (status: number, body: unknown): ApiAnswer => ({ status, body });
