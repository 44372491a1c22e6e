// The WebSocket gateway: an HTTP server with the chat endpoint, the HTTP routes and a health check.
// Knows `ws`, not Matrix. Every request and upgrade has an error boundary here: a failure becomes
// a JSON error (or a refused upgrade), logged once, never an exit.
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { WebSocketServer } from "ws";
import type { FanOut } from "../domain/fanout-port.ts";
import type { RateLimiter, RateRule } from "../domain/rate-limit-port.ts";
import type { Router } from "../handlers/router.ts";
import type { Logger } from "../logging.ts";
import { ProtocolError } from "../protocol/errors.ts";
import { Connection, type ConnectionLimits } from "./connection.ts";
import { ConnectionCounts } from "./connection-counts.ts";
import { BASE_HEADERS, failRequest, type HttpRoute, sendError, sendJson, statusOf } from "./http.ts";

export interface GatewayOptions extends ConnectionLimits {
  readonly bind: string;
  readonly port: number;
  readonly path: string;
  readonly maxPayloadBytes: number;
  /** Empty: any origin. Requests without an Origin header (apps, not browsers) always pass. */
  readonly allowedOrigins: readonly string[];
  readonly trustProxy: boolean;
  readonly maxConnectionsPerAddress: number;
  readonly connectionsPerAddress: RateRule;
}

export interface Gateway {
  readonly port: number;
  connectionCount(): number;
  close(): Promise<void>;
}

/** The client's address: the socket's peer, or behind a trusted proxy the last X-Forwarded-For hop. */
export function clientAddress(req: IncomingMessage, trustProxy: boolean): string {
  const forwarded = req.headers["x-forwarded-for"];
  if (trustProxy && typeof forwarded === "string") {
    const last = forwarded.split(",").at(-1)?.trim();
    if (last) return last;
  }
  return req.socket.remoteAddress ?? "unknown";
}

/** Answers an upgrade we refuse with a plain HTTP error, then closes the socket. */
function refuseUpgrade(socket: Duplex, error: ProtocolError): void {
  const status = statusOf(error.code);
  const body = JSON.stringify(error.toPayload());
  const retryAfter = error.details.retry_after;
  const headers = [
    `HTTP/1.1 ${status} ${status === 429 ? "Too Many Requests" : status === 403 ? "Forbidden" : "Bad Request"}`,
    "Content-Type: application/json",
    `Content-Length: ${Buffer.byteLength(body)}`,
    ...Object.entries(BASE_HEADERS).map(([name, value]) => `${name}: ${value}`),
    ...(typeof retryAfter === "number" ? [`Retry-After: ${Math.ceil(retryAfter / 1000)}`] : []),
    "Connection: close",
  ];
  socket.end(`${headers.join("\r\n")}\r\n\r\n${body}`);
}

export async function startGateway(
  options: GatewayOptions,
  deps: { router: Router; fanout: FanOut; limiter: RateLimiter; log: Logger; routes: readonly HttpRoute[] },
): Promise<Gateway> {
  const { router, fanout, limiter, log, routes } = deps;
  const http: Server = createServer((req, res) => {
    let url: URL;
    try {
      url = new URL(req.url ?? "/", "http://parley.invalid");
    } catch {
      sendError(res, new ProtocolError("http.bad_request", "The request target cannot be read."));
      return;
    }
    try {
      for (const route of routes) {
        const work = route(req, res, url);
        if (work === false) continue;
        work.catch((error: unknown) => failRequest(res, error, log, `${req.method} ${url.pathname}`));
        return;
      }
    } catch (error) {
      failRequest(res, error, log, `${req.method} ${url.pathname}`);
      return;
    }
    if (url.pathname === "/health") {
      sendJson(res, 200, { status: "ok" });
      return;
    }
    sendError(res, new ProtocolError("http.not_found", `No endpoint ${url.pathname}.`));
  });
  http.on("clientError", (_error, socket) => {
    // Unparseable HTTP: answer 400 if the socket still can, never throw.
    if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
    else socket.destroy();
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: options.maxPayloadBytes });
  const connections = new Set<Connection>();
  const addresses = new ConnectionCounts();
  const perUser = new ConnectionCounts();
  let nextId = 1;

  http.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on("error", () => socket.destroy());
    try {
      const path = new URL(req.url ?? "/", "http://parley.invalid").pathname;
      if (path !== options.path) {
        refuseUpgrade(socket, new ProtocolError("http.not_found", `No WebSocket endpoint ${path}.`));
        return;
      }
      const origin = req.headers.origin;
      if (
        options.allowedOrigins.length > 0 &&
        origin !== undefined &&
        !options.allowedOrigins.includes(origin)
      ) {
        refuseUpgrade(socket, new ProtocolError("http.forbidden_origin", `Origin ${origin} is not allowed.`));
        return;
      }
      const address = clientAddress(req, options.trustProxy);
      if (addresses.count(address) >= options.maxConnectionsPerAddress) {
        refuseUpgrade(
          socket,
          new ProtocolError("rate_limited", "Too many connections from this address.", {
            retry_after: 10_000,
          }),
        );
        return;
      }
      const decision = limiter.take(`connect:${address}`, options.connectionsPerAddress);
      if (!decision.ok) {
        refuseUpgrade(
          socket,
          new ProtocolError("rate_limited", "Too many new connections from this address.", {
            retry_after: Math.max(1, decision.retryAfterMs),
          }),
        );
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => {
        addresses.add(address);
        const connection = new Connection(nextId++, address, ws, { router, fanout, log, perUser }, options);
        connections.add(connection);
        ws.on("close", () => {
          connections.delete(connection);
          addresses.remove(address);
        });
      });
    } catch (error) {
      log.error("WebSocket upgrade failed", error);
      socket.destroy();
    }
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
