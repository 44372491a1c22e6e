// HTTP routes for media: `POST /media/upload` (a native user's file into the homeserver's content
// repository) and `GET /media/<server>/<id>` (the homeserver's own media for clients that cannot
// send its credentials, such as an <img> tag). Downloads stream through with a concurrency limit
// and a small cache of small files. Errors are JSON `{code, message}` (src/gateway/http.ts).

import { createDecipheriv } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { pipeline } from "node:stream/promises";
import type { Authenticator } from "../auth/jwt.ts";
import type { Admission } from "../domain/admission.ts";
import type { Media } from "../domain/media.ts";
import type { Users } from "../domain/users.ts";
import type { Logger } from "../logging.ts";
import { ProtocolError } from "../protocol/errors.ts";
import { readBody } from "../shared/read-body.ts";
import { ConnectionCounts } from "./connection-counts.ts";
import { BASE_HEADERS, CORS, failRequest, sendJson } from "./http.ts";
import { DownloadSlots, MediaCache } from "./media-cache.ts";
import type { HttpRoute } from "./server.ts";

const MEDIA_PATH = /^\/media\/([A-Za-z0-9.:-]{1,255})\/([A-Za-z0-9_-]{1,255})$/;
const INLINE = /^(image|audio|video)\//;
/** Downloads waiting for a slot, per slot, before new ones are turned away (429). */
const WAITING_PER_SLOT = 8;
/** Downloads one client address may have streaming at once: slow readers cannot take every slot. */
const DOWNLOADS_PER_ADDRESS = 4;
/** Uploads held in memory at once (each up to media.max_upload_bytes). */
const CONCURRENT_UPLOADS = 8;
/** A client that reads nothing (or sends nothing) for this long loses the request. */
const IDLE_TIMEOUT_MS = 30_000;

export interface MediaRouteDeps {
  readonly authenticator: Authenticator;
  readonly admission: Admission;
  readonly users: Users;
  readonly media: Media;
  readonly downloadConcurrency: number;
  readonly cacheBytes: number;
  /** The client's address (behind a trusted proxy, the one it reported). */
  readonly addressOf: (req: IncomingMessage) => string;
  readonly log: Logger;
}

/** How to read an encrypted-style attachment: its URL carries what the Matrix event said. */
interface EncryptedFile {
  readonly key: Buffer;
  readonly iv: Buffer;
  readonly contentType: string;
}

/** `?key=<base64url 32 bytes>&iv=<base64 16 bytes>&type=<mime>`, or undefined (a plain file). */
function encryptedFileOf(url: URL): EncryptedFile | undefined {
  const key = url.searchParams.get("key");
  const iv = url.searchParams.get("iv");
  if (key === null && iv === null) return undefined;
  const type = url.searchParams.get("type") ?? "application/octet-stream";
  if (
    key === null ||
    iv === null ||
    !/^[A-Za-z0-9_-]{43}$/.test(key) ||
    !/^[A-Za-z0-9+/_-]{22}(==)?$/.test(iv) ||
    !/^[\w.+-]+\/[\w.+-]+$/.test(type)
  ) {
    throw new ProtocolError("media.bad_request", "An encrypted file's key, iv or type cannot be read.");
  }
  return {
    key: Buffer.from(key, "base64url"),
    iv: Buffer.from(iv.replace(/=+$/, ""), "base64"),
    contentType: type,
  };
}

export function mediaRoutes(deps: MediaRouteDeps): HttpRoute {
  const { authenticator, admission, users, media, addressOf, log } = deps;
  const cache = new MediaCache(deps.cacheBytes);
  const slots = new DownloadSlots(deps.downloadConcurrency, deps.downloadConcurrency * WAITING_PER_SLOT);
  const uploadSlots = new DownloadSlots(CONCURRENT_UPLOADS, 0);
  const downloadsByAddress = new ConnectionCounts();
  const busy = (what: string) =>
    new ProtocolError("rate_limited", `Too many ${what} at once; retry shortly.`, { retry_after: 1000 });

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
    const address = addressOf(req);
    const identity = await identify(req);
    // As for a WebSocket login: refused before the login is recorded, new guests limited.
    const userId = await admission.admit(identity, address);
    const mimeType = (req.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
    const filename = url.searchParams.get("filename")?.trim() ?? "";
    if (!mimeType || !filename || filename.length > 255 || !filename.isWellFormed()) {
      throw new ProtocolError(
        "media.bad_request",
        "Send the file as the body with its Content-Type and ?filename=.",
      );
    }
    await media.admitUpload({ userId, address }, mimeType);
    const release = await uploadSlots.acquire();
    if (!release) throw busy("uploads");
    try {
      req.setTimeout(IDLE_TIMEOUT_MS, () => req.destroy());
      const data = await readBody(
        req,
        media.limits.maxUploadBytes,
        () => new ProtocolError("media.too_large"),
      );
      if (data.length === 0) throw new ProtocolError("media.bad_request", "The upload is empty.");
      await users.login(identity);
      sendJson(res, 200, await media.upload(userId, data, mimeType, filename), CORS);
    } finally {
      release();
    }
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

  const download = async (
    req: IncomingMessage,
    res: ServerResponse,
    server: string,
    mediaId: string,
    encrypted: EncryptedFile | undefined,
  ) => {
    // Key, iv and type all shape the answer: a URL with any other one must not share its cache entry.
    const key = encrypted
      ? `${server}/${mediaId}#${encrypted.key.toString("hex")}.${encrypted.iv.toString("hex")}.${encrypted.contentType}`
      : `${server}/${mediaId}`;
    const cached = cache.get(key);
    if (cached) {
      res.writeHead(200, headersFor(cached.contentType, cached.data.length)).end(cached.data);
      return;
    }
    const address = addressOf(req);
    if (downloadsByAddress.count(address) >= DOWNLOADS_PER_ADDRESS) throw busy("downloads from this address");
    downloadsByAddress.add(address);
    const release = await slots.acquire().catch(() => undefined);
    if (!release) {
      downloadsByAddress.remove(address);
      throw busy("media downloads");
    }
    try {
      if (req.destroyed) return;
      // A reader that stops reading holds a slot only this long.
      res.setTimeout(IDLE_TIMEOUT_MS, () => res.destroy());
      const file = await media.download(server, mediaId);
      // An encrypted-style attachment (AES-256-CTR, as Matrix clients make them) is served
      // decrypted, with the type its event gave: the same length, so the size stays right.
      const decipher = encrypted && createDecipheriv("aes-256-ctr", encrypted.key, encrypted.iv);
      const contentType = encrypted ? encrypted.contentType : file.contentType;
      const keep = file.size !== undefined && file.size <= cache.maxEntryBytes ? ([] as Buffer[]) : undefined;
      if (keep) (decipher ?? file.stream).on("data", (chunk: Buffer) => keep.push(chunk));
      res.writeHead(200, headersFor(contentType, file.size));
      // Backpressure end to end: the homeserver is read only as fast as the client reads.
      if (decipher) await pipeline(file.stream, decipher, res);
      else await pipeline(file.stream, res);
      if (keep) cache.put(key, { data: Buffer.concat(keep), contentType });
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
      downloadsByAddress.remove(address);
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
      return answered(
        download(req, res, served[1] as string, served[2] as string, encryptedFileOf(url)),
        res,
        "media download",
      );
    }
    return answered(Promise.reject(new ProtocolError("media.not_found")), res, "media");
  };
}
