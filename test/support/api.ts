// A small client of the server API for tests: JSON in and out, with a key.
export interface ApiReply<T = Record<string, unknown>> {
  readonly status: number;
  readonly body: T;
  readonly headers: Headers;
}

export type Api = <T = Record<string, unknown>>(
  method: string,
  path: string,
  body?: unknown,
  headers?: Record<string, string>,
) => Promise<ApiReply<T>>;

/**
 * Calls `<httpUrl><path>` with `Authorization: Bearer <key>` (none when key is undefined); a
 * function is read on each call (the port of a restarted Parley).
 */
export function apiClient(httpUrl: string | (() => string), key: string | undefined): Api {
  return async <T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const base = typeof httpUrl === "function" ? httpUrl() : httpUrl;
    const response = await fetch(`${base}${path}`, {
      method,
      headers: {
        ...(key === undefined ? {} : { authorization: `Bearer ${key}` }),
        ...(body === undefined ? {} : { "content-type": "application/json" }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : {}) as T, headers: response.headers };
  };
}
