// Every call Parley makes to the homeserver goes through the bot-sdk's one request function (and
// media downloads through downloadMedia): both report here, each call once, as an endpoint
// template (ids, aliases, event types and txn ids replaced by `{}`), never a raw path. The metrics
// module observes them; the Matrix side does not know who listens.
import { performance } from "node:perf_hooks";
import { getRequestFn, setRequestFn } from "@vector-im/matrix-bot-sdk";

export interface HomeserverCall {
  /** The route template, e.g. `/_matrix/client/v3/rooms/{}/send/{}/{}`. */
  readonly endpoint: string;
  readonly method: string;
  /** The HTTP status, or undefined when no answer came (refused, reset, timed out). */
  readonly status: number | undefined;
  readonly seconds: number;
}

export type HomeserverObserver = (call: HomeserverCall) => void;

/** Path segments kept as they are; any other segment (an id, a name, a type) becomes `{}`. */
const ROUTE_WORDS = new Set([
  "_matrix",
  "client",
  "media",
  "app",
  "v1",
  "v3",
  "r0",
  "unstable",
  "versions",
  "account",
  "whoami",
  "account_data",
  "appservice",
  "ping",
  "register",
  "login",
  "createRoom",
  "directory",
  "room",
  "list",
  "rooms",
  "send",
  "state",
  "join",
  "leave",
  "invite",
  "kick",
  "ban",
  "unban",
  "forget",
  "messages",
  "members",
  "joined_members",
  "joined_rooms",
  "context",
  "event",
  "redact",
  "receipt",
  "read_markers",
  "typing",
  "relations",
  "profile",
  "displayname",
  "avatar_url",
  "presence",
  "status",
  "user",
  "upload",
  "download",
  "thumbnail",
  "config",
  "sync",
  "timestamp_to_event",
  "m.room.power_levels",
  "m.room.member",
  "m.room.message",
  "m.reaction",
  "m.room.redaction",
]);
const MAX_SEGMENTS = 10;

/** The bounded label of a homeserver path: known words kept, everything else `{}`. */
export function endpointTemplate(path: string): string {
  const segments = path.split("?")[0]?.split("/").filter(Boolean) ?? [];
  const kept = segments.slice(0, MAX_SEGMENTS).map((segment) => (ROUTE_WORDS.has(segment) ? segment : "{}"));
  return `/${kept.join("/")}${segments.length > MAX_SEGMENTS ? "/..." : ""}`;
}

const pathOf = (uri: unknown): string => {
  try {
    return new URL(String(uri)).pathname;
  } catch {
    return "/";
  }
};

const observers = new Set<HomeserverObserver>();
let installed = false;

/** Reports one call to every observer; an observer's failure never reaches the caller. */
export function reportHomeserverCall(
  path: string,
  method: string,
  status: number | undefined,
  started: number,
) {
  if (observers.size === 0) return;
  const call = {
    endpoint: endpointTemplate(path),
    method,
    status,
    seconds: (performance.now() - started) / 1000,
  };
  for (const observe of observers) {
    try {
      observe(call);
    } catch {
      // metrics must not break a homeserver call
    }
  }
}

type RequestCallback = (error: unknown, response: { statusCode?: number } | undefined, body: unknown) => void;
type RequestFn = (params: { uri?: unknown; method?: string }, callback: RequestCallback) => unknown;

/**
 * Starts reporting the bot-sdk's requests to `observer`; returns how to stop. The bot-sdk's request
 * function is process-wide, so it is wrapped once, the first time.
 */
export function observeHomeserverCalls(observer: HomeserverObserver): () => void {
  if (!installed) {
    installed = true;
    const original = getRequestFn() as unknown as RequestFn;
    const timed: RequestFn = (params, callback) => {
      const started = performance.now();
      return original(params, (error, response, body) => {
        reportHomeserverCall(
          pathOf(params.uri),
          params.method ?? "GET",
          error ? undefined : response?.statusCode,
          started,
        );
        callback(error, response, body);
      });
    };
    setRequestFn(timed);
  }
  observers.add(observer);
  return () => {
    observers.delete(observer);
  };
}

/** Resolves when the homeserver answers its cheapest call (`/versions`) in time; else rejects. */
export async function checkHomeserver(homeserverUrl: string, timeoutMs: number): Promise<void> {
  const response = await fetch(`${homeserverUrl}/_matrix/client/versions`, {
    signal: AbortSignal.timeout(timeoutMs),
  });
  await response.body?.cancel();
  if (!response.ok) throw new Error(`the homeserver answered ${response.status}`);
}
