// GET /metrics: on the gateway's port (a route), or on a port of its own (metrics.port).
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { BASE_HEADERS } from "../gateway/http.ts";
import type { HttpRoute } from "../gateway/server.ts";
import type { Logger } from "../logging.ts";
import type { Metrics } from "./metrics.ts";

async function answer(metrics: Metrics, req: IncomingMessage, res: ServerResponse, log: Logger) {
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.writeHead(405, { allow: "GET, HEAD", ...BASE_HEADERS }).end();
    return;
  }
  try {
    const text = await metrics.text();
    res.writeHead(200, { "content-type": metrics.contentType, ...BASE_HEADERS }).end(text);
  } catch (error) {
    log.error("collecting metrics failed", error);
    if (!res.headersSent) res.writeHead(500, BASE_HEADERS);
    res.end();
  }
}

export const metricsRoute =
  (metrics: Metrics, log: Logger): HttpRoute =>
  (req, res, url) =>
    url.pathname === "/metrics" && answer(metrics, req, res, log);

export interface MetricsServer {
  readonly port: number;
  close(): Promise<void>;
}

/** /metrics alone, on its own port; anything else is 404. */
export async function startMetricsServer(
  metrics: Metrics,
  options: { readonly port: number; readonly bind: string },
  log: Logger,
): Promise<MetricsServer> {
  const server = createServer((req, res) => {
    if (new URL(req.url ?? "/", "http://parley.invalid").pathname === "/metrics") {
      void answer(metrics, req, res, log);
      return;
    }
    res.writeHead(404, BASE_HEADERS).end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.bind, () => resolve());
  });
  server.on("error", (error) => log.error("the metrics server reported an error", error));
  const port = (server.address() as AddressInfo).port;
  log.info(`metrics on http://${options.bind}:${port}/metrics`);
  return {
    port,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
