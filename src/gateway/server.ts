// The WebSocket gateway: an HTTP server with the chat endpoint, the HTTP routes and a health check.
// Knows `ws`, not Matrix. Every request and upgrade has an error boundary here: a failure becomes
// a JSON error (or a refused upgrade), logged once, never an exit.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { WebSocketServer } from "ws";
import type { FanOut } from "../domain/ports/fanout.ts";
import type { RateLimiter, RateRule } from "../domain/ports/rate-limit.ts";
import type { Router } from "../handlers/router.ts";
import type { Logger } from "../logging.ts";
import { ProtocolError } from "../protocol/errors.ts";
import { guarded } from "../shared/guard.ts";
import { Connection, type ConnectionLimits } from "./connection.ts";
import { ConnectionCounts, ConnectionsByUser } from "./connection-counts.ts";
import { BASE_HEADERS, failRequest, sendError, sendJson, statusOf } from "./http.ts";
import { type GatewayObserver, UNOBSERVED } from "./observer.ts";

/**
 * A route: `false` when the request is not its own, else the work of answering it. The server
 * awaits that work and turns any failure into a JSON error: no request can end the process.
 */
export type HttpRoute = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void> | false;

export interface GatewayOptions extends ConnectionLimits {
  readonly bind: string;
  readonly port: number;
  readonly path: string;
  readonly maxPayloadBytes: number;
  /** Empty: any origin. Requests without an Origin header (apps, not browsers) always pass. */
  readonly allowedOrigins: readonly string[];
  readonly trustedProxies: readonly string[];
  readonly maxConnectionsPerAddress: number;
  readonly connectionsPerAddress: RateRule;
  /** How often connections are pinged; one that misses a whole interval is dropped. */
  readonly heartbeatIntervalMs: number;
}

export interface Gateway {
  readonly port: number;
  connectionCount(): number;
  /**
   * The first step of a shutdown: new WebSockets are refused (503), every connection is closed
   * with 1001 (connect again, elsewhere); resolves once the requests they were running are
   * answered. HTTP routes keep serving (a balancer reads /ready) until close().
   */
  drain(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The key per-address limits count by: an IPv4 address, or the /64 of an IPv6 one (a single
 * host usually owns a whole /64 and could otherwise change address at will).
 */
export function addressKey(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped?.[1]) return mapped[1];
  if (!ip.includes(":")) return ip;
  const [head = "", tail] = ip.split("%")[0]?.split("::") ?? [];
  const headGroups = head === "" ? [] : head.split(":");
  const tailGroups = tail === undefined || tail === "" ? [] : tail.split(":");
  const groups =
    tail === undefined
      ? headGroups
      : [
          ...headGroups,
          ...new Array<string>(Math.max(0, 8 - headGroups.length - tailGroups.length)).fill("0"),
          ...tailGroups,
        ];
  return `${groups
    .slice(0, 4)
    .map((group) => Number.parseInt(group || "0", 16).toString(16))
    .join(":")}::/64`;
}

const ipv4 = (ip: string): number | undefined => {
  const parts = ip.split(".").map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return undefined;
  return parts.reduce((value, part) => value * 256 + part, 0);
};

/** Whether `ip` is one of `proxies`: an exact address, or inside an IPv4 range `a.b.c.d/n`. */
export function isTrustedProxy(ip: string, proxies: readonly string[]): boolean {
  const plain = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)?.[1] ?? ip;
  return proxies.some((proxy) => {
    const [base = "", bits] = proxy.split("/");
    if (bits === undefined) return base === plain;
    const [address, network] = [ipv4(plain), ipv4(base)];
    if (address === undefined || network === undefined) return false;
    const size = 2 ** (32 - Number(bits));
    return Math.floor(address / size) === Math.floor(network / size);
  });
}

/**
 * The client's address as the per-address limits count it: the socket's peer, or, when the peer
 * is a trusted proxy, the last X-Forwarded-For entry (the one that proxy added).
 */
export function clientAddress(req: IncomingMessage, trustedProxies: readonly string[]): string {
  const peer = req.socket.remoteAddress ?? "unknown";
  const forwarded = req.headers["x-forwarded-for"];
  if (typeof forwarded === "string" && isTrustedProxy(peer, trustedProxies)) {
    const last = forwarded.split(",").at(-1)?.trim();
    if (last) return addressKey(last);
  }
  return addressKey(peer);
}

/** The page Parley serves itself (gateway.web_client) is always let in: its origin is this host. */
function isSameOrigin(origin: string, host: string | undefined): boolean {
  try {
    return host !== undefined && new URL(origin).host === host;
  } catch {
    return false;
  }
}

/** A socket that fails during the upgrade is just dropped (shared, not a closure per socket). */
function destroyOnError(this: Duplex): void {
  this.destroy();
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

/** While the gateway drains, a new WebSocket is told to go elsewhere (as /ready says). */
function refuseWhileDraining(socket: Duplex): void {
  const body = JSON.stringify({ status: "draining" });
  const headers = [
    "HTTP/1.1 503 Service Unavailable",
    "Content-Type: application/json",
    `Content-Length: ${Buffer.byteLength(body)}`,
    ...Object.entries(BASE_HEADERS).map(([name, value]) => `${name}: ${value}`),
    "Retry-After: 1",
    "Connection: close",
  ];
  socket.end(`${headers.join("\r\n")}\r\n\r\n${body}`);
}

export async function startGateway(
  options: GatewayOptions,
  deps: {
    router: Router;
    fanout: FanOut;
    limiter: RateLimiter;
    log: Logger;
    routes: readonly HttpRoute[];
    observer?: GatewayObserver;
  },
): Promise<Gateway> {
  const { router, fanout, limiter, log, routes } = deps;
  const observer = deps.observer ?? UNOBSERVED;
  let draining = false;
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

  // The gateway tracks its connections itself (ws's own client set would be a second copy).
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: options.maxPayloadBytes,
    clientTracking: false,
  });
  const connections = new Set<Connection>();
  const addresses = new ConnectionCounts();
  const perUser = new ConnectionsByUser<Connection>();
  let nextId = 1;
  const closed = (connection: Connection) => {
    connections.delete(connection);
    addresses.remove(connection.address);
    observer.connectionClosed();
  };
  const connectionDeps = { router, fanout, log, perUser, closed, observer };

  http.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on("error", destroyOnError);
    try {
      if (draining) {
        refuseWhileDraining(socket);
        return;
      }
      const path = new URL(req.url ?? "/", "http://parley.invalid").pathname;
      if (path !== options.path) {
        refuseUpgrade(socket, new ProtocolError("http.not_found", `No WebSocket endpoint ${path}.`));
        return;
      }
      const origin = req.headers.origin;
      if (
        options.allowedOrigins.length > 0 &&
        origin !== undefined &&
        !options.allowedOrigins.includes(origin) &&
        !isSameOrigin(origin, req.headers.host)
      ) {
        refuseUpgrade(socket, new ProtocolError("http.forbidden_origin", `Origin ${origin} is not allowed.`));
        return;
      }
      const address = clientAddress(req, options.trustedProxies);
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
        // From here ws handles the socket's errors.
        socket.removeListener("error", destroyOnError);
        addresses.add(address);
        observer.connectionOpened();
        connections.add(new Connection(nextId++, address, ws, connectionDeps, options));
      });
    } catch (error) {
      log.error("WebSocket upgrade failed", error);
      socket.destroy();
    }
  });

  const heartbeat = setInterval(
    guarded(log, "the connection heartbeat", () => {
      for (const connection of connections) connection.heartbeat();
    }),
    options.heartbeatIntervalMs,
  );
  heartbeat.unref();

  await new Promise<void>((resolve, reject) => {
    http.once("error", reject);
    http.listen(options.port, options.bind, () => resolve());
  });
  // After listening, an error (running out of file descriptors under a flood) is logged, not fatal.
  http.on("error", (error) => log.error("the HTTP server reported an error", error));
  const port = (http.address() as AddressInfo).port;
  log.info(`WebSocket gateway on ws://${options.bind}:${port}${options.path}`);
  return {
    port,
    connectionCount: () => connections.size,
    async drain() {
      draining = true;
      const open = [...connections];
      for (const connection of open) connection.close("goingAway");
      await Promise.allSettled(open.map((connection) => connection.idle()));
    },
    async close() {
      clearInterval(heartbeat);
      for (const connection of connections) connection.close("goingAway");
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
