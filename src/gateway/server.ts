// The WebSocket gateway: an HTTP server with the chat endpoint and a health check. Knows `ws`,
// not Matrix.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocketServer } from "ws";
import type { FanOut } from "../domain/fanout-port.ts";
import type { Router } from "../handlers/router.ts";
import type { Logger } from "../logging.ts";
import { Connection, type ConnectionLimits } from "./connection.ts";
import type { HttpRoute } from "./media-http.ts";

export interface GatewayOptions extends ConnectionLimits {
  readonly bind: string;
  readonly port: number;
  readonly path: string;
  readonly maxPayloadBytes: number;
}

export interface Gateway {
  readonly port: number;
  connectionCount(): number;
  close(): Promise<void>;
}

export async function startGateway(
  options: GatewayOptions,
  router: Router,
  fanout: FanOut,
  log: Logger,
  routes: readonly HttpRoute[] = [],
): Promise<Gateway> {
  const http: Server = createServer((req, res) => {
    try {
      for (const route of routes) if (route(req, res)) return;
    } catch (error) {
      // No request may take the process down.
      log.error("HTTP route failed", error);
      if (!res.headersSent)
        res.writeHead(500, { "content-type": "application/json" }).end('{"code":"server.fatal"}');
      return;
    }
    if (req.url === "/health") {
      res.writeHead(200, { "content-type": "application/json" }).end('{"status":"ok"}');
      return;
    }
    res.writeHead(404, { "content-type": "application/json" }).end('{"error":"not found"}');
  });
  const wss = new WebSocketServer({ server: http, path: options.path, maxPayload: options.maxPayloadBytes });
  const connections = new Set<Connection>();
  let nextId = 1;
  wss.on("connection", (ws) => {
    const connection = new Connection(nextId++, ws, router, fanout, options);
    connections.add(connection);
    ws.on("close", () => connections.delete(connection));
  });
  await new Promise<void>((resolve, reject) => {
    http.once("error", reject);
    http.listen(options.port, options.bind, () => resolve());
  });
  const port = (http.address() as AddressInfo).port;
  log.info(`WebSocket gateway on ws://${options.bind}:${port}${options.path}`);
  return {
    port,
    connectionCount: () => connections.size,
    async close() {
      for (const connection of connections) connection.close("goingAway");
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
