// The appservice HTTP listener Synapse pushes to. Our own, not the bot-sdk's: the hs_token is
// checked first, in constant time, before a byte of the body is read; bodies are capped; every
// request has an error boundary. Transactions are handed to the durable inbox before the 200.
import { createHash, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { z } from "zod";
import type { Logger } from "../logging.ts";
import { readBody } from "../shared/read-body.ts";

export interface ListenerOptions {
  readonly bind: string;
  readonly port: number;
  readonly hsToken: string;
  readonly maxBodyBytes: number;
}

export interface ListenerHandlers {
  /** Durable: when it resolves, the events are stored. A rejection answers 500. */
  events(events: readonly unknown[]): Promise<void>;
  /** Typing, receipts, presence: best effort. */
  ephemeral(edus: readonly unknown[]): Promise<void>;
  /** An unknown alias in our namespace: true when a room now has it. */
  aliasQuery(alias: string): Promise<boolean>;
  /** A user id in our namespace the homeserver does not know: true when it exists now. */
  userQuery(userId: string): Promise<boolean>;
  /** The third-party lookup: users of `protocol` matching `fields` (`?name=...`). */
  thirdPartyUsers(protocol: string, fields: Readonly<Record<string, string>>): Promise<ThirdPartyUser[]>;
  /** The reverse lookup: what a Matrix user id is in our protocol. */
  thirdPartyUser(userId: string): Promise<ThirdPartyUser[]>;
  /** The protocol's description (`GET /thirdparty/protocol/{protocol}`), or undefined when unknown. */
  thirdPartyProtocol(protocol: string): Record<string, unknown> | undefined;
}

export interface ThirdPartyUser {
  readonly userid: string;
  readonly protocol: string;
  readonly fields: Readonly<Record<string, string>>;
}

export interface Listener {
  readonly port: number;
  close(): Promise<void>;
}

const transactionSchema = z
  .object({
    events: z.array(z.unknown()).default([]),
    ephemeral: z.array(z.unknown()).optional(),
    "de.sorunome.msc2409.ephemeral": z.array(z.unknown()).optional(),
  })
  .loose();

class HttpFailure extends Error {
  readonly status: number;
  readonly errcode: string;
  constructor(status: number, errcode: string, message: string) {
    super(message);
    this.status = status;
    this.errcode = errcode;
  }
}

const digest = (value: string) => createHash("sha256").update(value).digest();

function send(res: ServerResponse, status: number, body: unknown, bodyUnread = false): void {
  res
    .writeHead(status, {
      "content-type": "application/json",
      "x-content-type-options": "nosniff",
      // A refused request's body is not read: end the connection rather than drain it.
      ...(bodyUnread ? { connection: "close" } : {}),
    })
    .end(JSON.stringify(body));
}

/** Reads at most `limit` bytes of JSON; a larger body is refused without reading the rest. */
async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const body = await readBody(req, limit, () => new HttpFailure(413, "M_TOO_LARGE", "transaction too large"));
  try {
    return JSON.parse(body.toString("utf8"));
  } catch {
    throw new HttpFailure(400, "M_NOT_JSON", "body is not JSON");
  }
}

export async function startListener(
  options: ListenerOptions,
  handlers: ListenerHandlers,
  log: Logger,
): Promise<Listener> {
  const expected = digest(options.hsToken);

  /** Bearer header (current spec) or ?access_token= (older homeservers); compared in constant time. */
  const checkToken = (req: IncomingMessage, url: URL) => {
    const header = req.headers.authorization;
    const token = header?.startsWith("Bearer ") ? header.slice(7) : url.searchParams.get("access_token");
    if (!token) throw new HttpFailure(401, "M_UNAUTHORIZED", "missing token");
    if (!timingSafeEqual(digest(token), expected)) throw new HttpFailure(403, "M_FORBIDDEN", "bad token");
  };

  const transaction = async (req: IncomingMessage, res: ServerResponse) => {
    const parsed = transactionSchema.safeParse(await readJson(req, options.maxBodyBytes));
    if (!parsed.success) throw new HttpFailure(400, "M_BAD_JSON", "not a transaction");
    // Durable before the 200: Synapse will not send these again once it has it.
    await handlers.events(parsed.data.events);
    send(res, 200, {});
    try {
      await handlers.ephemeral(parsed.data.ephemeral ?? parsed.data["de.sorunome.msc2409.ephemeral"] ?? []);
    } catch (error) {
      log.warn("ephemeral events could not be read", error);
    }
  };

  /** Third-party lookups (the spec's /thirdparty/...): users by name, and the protocol. */
  const thirdParty = async (res: ServerResponse, path: string, url: URL) => {
    const [, what, rawProtocol] = /^\/thirdparty\/(protocol|user|location)(?:\/([^/]+))?$/.exec(path) ?? [];
    const protocol = rawProtocol === undefined ? undefined : decodeURIComponent(rawProtocol);
    const fields = Object.fromEntries(
      [...url.searchParams].filter(([name]) => name !== "access_token").map(([name, value]) => [name, value]),
    );
    if (what === "protocol" && protocol !== undefined) {
      const description = handlers.thirdPartyProtocol(protocol);
      if (description) send(res, 200, description);
      else send(res, 404, { errcode: "M_NOT_FOUND", error: "no such protocol" });
      return;
    }
    if (what === "user" && protocol !== undefined) {
      send(res, 200, await handlers.thirdPartyUsers(protocol, fields));
      return;
    }
    if (what === "user" && typeof fields.userid === "string") {
      send(res, 200, await handlers.thirdPartyUser(fields.userid));
      return;
    }
    // No locations: channels are found through the room directory.
    if (what === "location") {
      send(res, 200, []);
      return;
    }
    send(res, 404, { errcode: "M_UNRECOGNIZED", error: "unknown endpoint" });
  };

  const route = async (req: IncomingMessage, res: ServerResponse) => {
    let url: URL;
    try {
      url = new URL(req.url ?? "/", "http://appservice.invalid");
    } catch {
      throw new HttpFailure(400, "M_INVALID_PARAM", "unreadable request target");
    }
    // Every endpoint needs the homeserver's token: nothing is read or answered without it.
    checkToken(req, url);
    const path = url.pathname.replace(/^\/_matrix\/app\/v1(?=\/)/, "");
    if (req.method === "GET" && path.startsWith("/thirdparty/")) return thirdParty(res, path, url);
    const [, kind, rawArgument] = /^\/([a-z]+)\/([^/]+)$/.exec(path) ?? [];
    const argument = rawArgument === undefined ? undefined : decodeURIComponent(rawArgument);
    if (req.method === "PUT" && kind === "transactions") return transaction(req, res);
    if (req.method === "GET" && kind === "rooms" && argument !== undefined) {
      if (await handlers.aliasQuery(argument)) send(res, 200, {});
      else send(res, 404, { errcode: "M_NOT_FOUND", error: "no such room" });
      return;
    }
    // A puppet exists for a native user who has logged in (a full id typed into a Matrix client
    // then finds them); nobody else is conjured up.
    if (req.method === "GET" && kind === "users" && argument !== undefined) {
      if (await handlers.userQuery(argument)) send(res, 200, {});
      else send(res, 404, { errcode: "M_NOT_FOUND", error: "no such user" });
      return;
    }
    if (req.method === "POST" && url.pathname === "/_matrix/app/v1/ping") {
      send(res, 200, {});
      return;
    }
    send(res, 404, { errcode: "M_UNRECOGNIZED", error: "unknown endpoint" });
  };

  const server: Server = createServer((req, res) => {
    route(req, res).catch((error: unknown) => {
      if (error instanceof HttpFailure) {
        if (error.status >= 500) log.error(`appservice ${req.method} failed`, error);
        else log.warn(`appservice request refused: ${error.status} ${error.message}`);
        if (!res.headersSent) {
          send(res, error.status, { errcode: error.errcode, error: error.message }, !req.complete);
        }
        return;
      }
      // A malformed %-escape and the like are the caller's fault; anything else is ours (500,
      // so Synapse retries the transaction later).
      const status = error instanceof URIError ? 400 : 500;
      if (status === 500) log.error(`appservice ${req.method} failed`, error);
      if (!res.headersSent) send(res, status, { errcode: status === 400 ? "M_INVALID_PARAM" : "M_UNKNOWN" });
    });
  });
  server.on("clientError", (_error, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) =>
      reject(
        error.code === "EADDRINUSE"
          ? new Error(
              `the appservice port ${options.bind}:${options.port} is in use (another Parley running?)`,
            )
          : error,
      ),
    );
    server.listen(options.port, options.bind, () => resolve());
  });
  // After listening, an error (running out of file descriptors under a flood) is logged, not fatal.
  server.on("error", (error) => log.error("the appservice listener reported an error", error));
  return {
    port: (server.address() as AddressInfo).port,
    async close() {
      // The homeserver keeps connections alive; close them so a restarted Parley gets the next ones.
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
