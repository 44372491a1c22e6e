// HTTP routes for media: `POST /media/upload` (a native user's file into the homeserver's content
// repository) and `GET /media/<server>/<id>` (the homeserver's own media for clients that cannot
// send its credentials, such as an <img> tag). Downloads stream through with a concurrency limit
// and a small cache of small files. Errors are JSON `{code, message}` (src/gateway/http.ts).
import type { IncomingMessage, ServerResponse } from "node:http";
import { pipeline } from "node:stream/promises";
import type { Authenticator } from "../auth/jwt.ts";
import type { Media } from "../domain/media.ts";
import type { Users } from "../domain/users.ts";
import type { Logger } from "../logging.ts";
import { ProtocolError } from "../protocol/errors.ts";
import type { UserId } from "../protocol/ids.ts";
import { readBody } from "../shared/read-body.ts";
import { BASE_HEADERS, CORS, failRequest, type HttpRoute, sendJson } from "./http.ts";
import { DownloadSlots, MediaCache } from "./media-cache.ts";

const MEDIA_PATH = /^\/media\/([A-Za-z0-9.:-]{1,255})\/([A-Za-z0-9_-]{1,255})$/;
const INLINE = /^(image|audio|video)\//;
/** Downloads waiting for a slot, per slot, before new ones are turned away (503). */
const WAITING_PER_SLOT = 8;

export interface MediaRouteDeps {
  readonly authenticator: Authenticator;
  readonly users: Users;
  readonly media: Media;
  readonly isBanned: (userId: UserId) => boolean;
  readonly downloadConcurrency: number;
  readonly cacheBytes: number;
  readonly log: Logger;
}

export function mediaRoutes(deps: MediaRouteDeps): HttpRoute {
  const { authenticator, users, media, isBanned, log } = deps;
  const cache = new MediaCache(deps.cacheBytes);
  const slots = new DownloadSlots(deps.downloadConcurrency, deps.downloadConcurrency * WAITING_PER_SLOT);

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
    if (!mimeType || !filename || filename.length > 255 || !filename.isWellFormed()) {
      throw new ProtocolError(
        "media.bad_request",
        "Send the file as the body with its Content-Type and ?filename=.",
      );
    }
    media.admitUpload(user.userId, mimeType);
    const data = await readBody(req, media.limits.maxUploadBytes, () => new ProtocolError("media.too_large"));
    if (data.length === 0) throw new ProtocolError("media.bad_request", "The upload is empty.");
    sendJson(res, 200, await media.upload(user.userId, data, mimeType, filename), CORS);
  };

  const headersFor = (contentType: string, size: number | undefined) => ({
    "content-type": contentType,
    ...(size === undefined ? {} : { "content-length": size }),
    "cache-control": "public, max-age=31536000, immutable",
    ...BASE_HEADERS,
    // Uploaded files must never run as a page of this origin.
    "content-security-policy": "default-src 'none'; sandbox",
    ...(INLINE.test(contentType) ? {} : { "content-disposition": "attachment" }),
    ...CORS,
  });

  const download = async (req: IncomingMessage, res: ServerResponse, server: string, mediaId: string) => {
    const key = `${server}/${mediaId}`;
    const cached = cache.get(key);
    if (cached) {
      res.writeHead(200, headersFor(cached.contentType, cached.data.length)).end(cached.data);
      return;
    }
    const release = await slots.acquire();
    if (!release) {
      throw new ProtocolError("rate_limited", "Too many media downloads at once; retry shortly.", {
        retry_after: 1000,
      });
    }
    try {
      if (req.destroyed) return;
      const file = await media.download(server, mediaId);
      const keep = file.size !== undefined && file.size <= cache.maxEntryBytes ? ([] as Buffer[]) : undefined;
      if (keep) file.stream.on("data", (chunk: Buffer) => keep.push(chunk));
      res.writeHead(200, headersFor(file.contentType, file.size));
      // Backpressure end to end: the homeserver is read only as fast as the client reads.
      await pipeline(file.stream, res);
      if (keep) cache.put(key, { data: Buffer.concat(keep), contentType: file.contentType });
    } catch (error) {
      // A client that went away mid-file is no error of ours.
      if (res.headersSent) {
        log.debug(`media ${key} not fully sent`, error);
        res.destroy();
        return;
      }
      throw error;
    } finally {
      release();
    }
  };

  // Errors carry CORS too, so a page on another origin can read why its upload failed.
  const answered = (work: Promise<void>, res: ServerResponse, what: string) =>
    work.catch((error: unknown) => failRequest(res, error, log, what, CORS));

  return (req, res, url) => {
    if (!url.pathname.startsWith("/media/")) return false;
    if (req.method === "OPTIONS") {
      res.writeHead(204, { ...CORS, ...BASE_HEADERS }).end();
      return Promise.resolve();
    }
    if (req.method === "POST" && url.pathname === "/media/upload") {
      return answered(upload(req, res, url), res, "media upload");
    }
    const served = MEDIA_PATH.exec(url.pathname);
    if ((req.method === "GET" || req.method === "HEAD") && served) {
      return answered(download(req, res, served[1] as string, served[2] as string), res, "media download");
    }
    return answered(Promise.reject(new ProtocolError("media.not_found")), res, "media");
  };
}
