// HTTP routes for media: `POST /media/upload` (a native user's file into the homeserver's content
// repository) and `GET /media/<server>/<id>` (homeserver media for clients that cannot send the
// homeserver's credentials, such as an <img> tag). Errors are JSON `{code, message}`.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Authenticator } from "../auth/jwt.ts";
import { UpstreamUnavailableError } from "../domain/matrix-port.ts";
import type { Media } from "../domain/media.ts";
import type { Users } from "../domain/users.ts";
import type { Logger } from "../logging.ts";
import { type ErrorCode, isProtocolError, ProtocolError } from "../protocol/errors.ts";
import type { UserId } from "../protocol/ids.ts";

const STATUS: Partial<Record<ErrorCode, number>> = {
  "auth.missing_id_or_token": 401,
  "auth.invalid_token": 401,
  "auth.expired_token": 401,
  "auth.denied": 403,
  "media.too_large": 413,
  "media.unsupported_type": 415,
  "media.bad_request": 400,
  "media.not_found": 404,
  "upstream.unavailable": 503,
};

const CORS = {
  "access-control-allow-origin": "*",
  "access-control-allow-headers": "authorization, content-type",
  "access-control-allow-methods": "GET, POST, OPTIONS",
};

const MEDIA_PATH = /^\/media\/([A-Za-z0-9.:-]{1,255})\/([A-Za-z0-9_-]{1,255})$/;
const INLINE = /^(image|audio|video)\//;

export type HttpRoute = (req: IncomingMessage, res: ServerResponse) => boolean;

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json", ...CORS }).end(JSON.stringify(body));
}

/** Reads the body, refusing it as soon as it exceeds `limit` bytes. */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"]);
    if (Number.isFinite(declared) && declared > limit) {
      reject(new ProtocolError("media.too_large"));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new ProtocolError("media.too_large"));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

export function mediaRoutes(deps: {
  authenticator: Authenticator;
  users: Users;
  media: Media;
  isBanned: (userId: UserId) => boolean;
  log: Logger;
}): HttpRoute {
  const { authenticator, users, media, isBanned, log } = deps;

  const fail = (res: ServerResponse, error: unknown) => {
    if (res.headersSent) return res.destroy();
    const known = isProtocolError(error)
      ? error
      : error instanceof UpstreamUnavailableError
        ? new ProtocolError("upstream.unavailable")
        : undefined;
    if (!known) log.error("media request failed", error);
    const payload = (known ?? new ProtocolError("server.fatal")).toPayload();
    sendJson(res, known ? (STATUS[known.code] ?? 400) : 500, payload);
  };

  const identify = async (req: IncomingMessage) => {
    const header = req.headers.authorization ?? "";
    const [scheme, credential] = header.split(" ", 2);
    if (scheme === "Bearer" && credential) return authenticator.verifyToken(credential);
    if (scheme === "Guest" && credential) {
      // The same rule as the WebSocket login: a guest id is a credential, so not a short one.
      if (credential.length < 8 || credential.length > 128) {
        throw new ProtocolError("auth.invalid_token", "A guest client_id has 8-128 characters.");
      }
      return authenticator.guest(credential);
    }
    throw new ProtocolError(
      "auth.missing_id_or_token",
      "Send Authorization: Bearer <token> (or Guest <client_id>).",
    );
  };

  const upload = async (req: IncomingMessage, res: ServerResponse, url: URL) => {
    const user = users.login(await identify(req));
    if (isBanned(user.userId)) throw new ProtocolError("auth.denied", "This account is banned.");
    const mimeType = (req.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
    const filename = url.searchParams.get("filename")?.trim() ?? "";
    if (!mimeType || !filename || filename.length > 255) {
      throw new ProtocolError(
        "media.bad_request",
        "Send the file as the body with its Content-Type and ?filename=.",
      );
    }
    if (!media.isAllowedType(mimeType))
      throw new ProtocolError("media.unsupported_type", `${mimeType} is not allowed here.`);
    const data = await readBody(req, media.limits.maxUploadBytes);
    if (data.length === 0) throw new ProtocolError("media.bad_request", "The upload is empty.");
    sendJson(res, 200, await media.upload(user.userId, data, mimeType, filename));
  };

  const download = async (res: ServerResponse, server: string, mediaId: string) => {
    const { data, contentType } = await media.download(server, mediaId);
    res
      .writeHead(200, {
        "content-type": contentType,
        "content-length": data.length,
        "cache-control": "public, max-age=31536000, immutable",
        // Uploaded files must never run as a page of this origin.
        "x-content-type-options": "nosniff",
        "content-security-policy": "default-src 'none'; sandbox",
        ...(INLINE.test(contentType) ? {} : { "content-disposition": "attachment" }),
        ...CORS,
      })
      .end(data);
  };

  return (req, res) => {
    const url = new URL(req.url ?? "/", "http://parley.invalid");
    if (!url.pathname.startsWith("/media/")) return false;
    if (req.method === "OPTIONS") {
      res.writeHead(204, CORS).end();
      return true;
    }
    const served = MEDIA_PATH.exec(url.pathname);
    const work =
      req.method === "POST" && url.pathname === "/media/upload"
        ? upload(req, res, url)
        : req.method === "GET" && served
          ? download(res, served[1] as string, served[2] as string)
          : Promise.reject(new ProtocolError("media.not_found"));
    work.catch((error: unknown) => fail(res, error));
    return true;
  };
}
