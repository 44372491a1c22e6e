// GET /ready: whether this node should get traffic. 200 {"status":"ready"} when every check
// passes (the homeserver answers, the store takes a write, the cluster bus answers); else 503
// {"status":"unready","failed":[names]}; 503 {"status":"draining"} once a shutdown has begun.
// The checks are given by the composition root: the gateway does not know what they touch.
import type { Logger } from "../logging.ts";
import { sendJson } from "./http.ts";
import type { HttpRoute } from "./server.ts";

export interface ReadinessCheck {
  readonly name: string;
  /** Resolves when the dependency is usable; rejects (or does not settle in time) when not. */
  check(): Promise<void>;
}

export interface ReadinessDeps {
  readonly checks: readonly ReadinessCheck[];
  /** Each check's time to answer. */
  readonly timeoutMs: number;
  readonly draining: () => boolean;
  readonly log: Logger;
}

function withTimeout(work: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

export function readinessRoute(deps: ReadinessDeps): HttpRoute {
  /** What failed at the last probe, so a failure is logged when it starts, not at every probe. */
  let lastFailed = "";
  const probe = async (): Promise<string[]> => {
    const outcomes = await Promise.allSettled(
      deps.checks.map((c) => withTimeout(Promise.resolve().then(c.check), deps.timeoutMs)),
    );
    const failed: string[] = [];
    const reasons: string[] = [];
    outcomes.forEach((outcome, i) => {
      if (outcome.status === "fulfilled") return;
      const name = deps.checks[i]?.name ?? "?";
      failed.push(name);
      const reason = outcome.reason instanceof Error ? outcome.reason.message : String(outcome.reason);
      reasons.push(`${name} (${reason})`);
    });
    const now = failed.join(",");
    if (now !== lastFailed) {
      if (failed.length > 0) deps.log.warn(`not ready: ${reasons.join(", ")}`);
      else deps.log.info("ready again");
      lastFailed = now;
    }
    return failed;
  };
  return (req, res, url) => {
    if (url.pathname !== "/ready" || (req.method !== "GET" && req.method !== "HEAD")) return false;
    return (async () => {
      if (deps.draining()) {
        sendJson(res, 503, { status: "draining" });
        return;
      }
      const failed = await probe();
      if (failed.length === 0) sendJson(res, 200, { status: "ready" });
      else sendJson(res, 503, { status: "unready", failed });
    })();
  };
}
