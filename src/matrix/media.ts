// Homeserver media, streamed: Parley never holds a whole file. Synapse requires authentication for
// downloads (authenticated media), so the request carries the appservice token.
import { performance } from "node:perf_hooks";
import { Readable } from "node:stream";
import {
  type DownloadedMedia,
  UpstreamRejectedError,
  UpstreamUnavailableError,
} from "../domain/ports/matrix.ts";
import { reportHomeserverCall } from "./homeserver-requests.ts";

/** Time for the homeserver to start answering; the body then streams at the reader's pace. */
const HEADERS_TIMEOUT_MS = 15_000;
const MXC = /^mxc:\/\/([A-Za-z0-9.:-]+)\/([A-Za-z0-9_-]+)$/;

export async function downloadMedia(
  homeserverUrl: string,
  accessToken: string,
  mxc: string,
): Promise<DownloadedMedia | undefined> {
  const match = MXC.exec(mxc);
  if (!match) return undefined;
  const [, server, mediaId] = match as unknown as [string, string, string];
  const url = `${homeserverUrl}/_matrix/client/v1/media/download/${encodeURIComponent(server)}/${encodeURIComponent(mediaId)}`;
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), HEADERS_TIMEOUT_MS);
  let response: Response;
  const started = performance.now();
  const path = new URL(url).pathname;
  try {
    response = await fetch(url, {
      headers: { authorization: `Bearer ${accessToken}` },
      signal: abort.signal,
    });
    reportHomeserverCall(path, "GET", response.status, started);
  } catch (error) {
    reportHomeserverCall(path, "GET", undefined, started);
    throw new UpstreamUnavailableError(
      `media download failed (${error instanceof Error ? error.message : "network error"})`,
    );
  } finally {
    clearTimeout(timer);
  }
  if (response.status === 404) {
    await response.body?.cancel();
    return undefined;
  }
  if (!response.ok || response.body === null) {
    await response.body?.cancel();
    if (response.status >= 500) throw new UpstreamUnavailableError(`homeserver answered ${response.status}`);
    throw new UpstreamRejectedError(
      "M_UNKNOWN",
      response.status,
      `media download refused (${response.status})`,
    );
  }
  const length = Number(response.headers.get("content-length"));
  return {
    stream: Readable.fromWeb(response.body as import("node:stream/web").ReadableStream<Uint8Array>),
    contentType: response.headers.get("content-type") || "application/octet-stream",
    ...(Number.isSafeInteger(length) && length >= 0 ? { size: length } : {}),
  };
}
