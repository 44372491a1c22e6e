// The web chat page (web/), served at `/` when `gateway.web_client` is on. Its scripts are built
// by `npm run build` into web/dist; nothing is fetched from anywhere else.
import { readFile } from "node:fs/promises";
import { extname, join, normalize, resolve, sep } from "node:path";
import { BASE_HEADERS } from "./http.ts";
import type { HttpRoute } from "./server.ts";

const WEB_ROOT = resolve(import.meta.dirname, "../../web");
const ASSETS = join(WEB_ROOT, "dist");
const TYPES: Record<string, string> = {
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".html": "text/html; charset=utf-8",
  ".map": "application/json",
};
/**
 * The page may be framed by its own origin and those the operator lists (`web_embed_origins`), and
 * shows images from its own origin and from `public_url`'s (media URLs are built on it; behind a
 * proxy it may be another origin than the page's).
 */
const securityHeaders = (embedOrigins: readonly string[], mediaOrigin: string | undefined) => ({
  ...BASE_HEADERS,
  "content-security-policy":
    `default-src 'self'; connect-src 'self' ws: wss:; img-src ${["'self'", "data:", mediaOrigin].filter(Boolean).join(" ")}; ` +
    `style-src 'self'; frame-ancestors ${["'self'", ...embedOrigins].join(" ")}`,
  "referrer-policy": "no-referrer",
});

export function webRoutes(
  wsPath: string,
  embedOrigins: readonly string[] = [],
  publicUrl?: string,
): HttpRoute {
  const SECURITY = securityHeaders(embedOrigins, publicUrl ? new URL(publicUrl).origin : undefined);
  return (req, res, url) => {
    if (req.method !== "GET" && req.method !== "HEAD") return false;
    const path = url.pathname;
    let file: string;
    if (path === "/" || path === "/index.html") file = join(WEB_ROOT, "index.html");
    else if (path.startsWith("/assets/")) {
      let relative: string;
      try {
        relative = decodeURIComponent(path.slice("/assets/".length));
      } catch {
        return false; // a malformed %-escape is simply not one of our files
      }
      file = normalize(join(ASSETS, relative));
      if (!file.startsWith(ASSETS + sep)) return false;
    } else return false;
    return readFile(file).then(
      (data) => {
        const body =
          extname(file) === ".html"
            ? Buffer.from(data.toString("utf8").replace('content="/chat"', `content="${wsPath}"`))
            : data;
        res
          .writeHead(200, {
            "content-type": TYPES[extname(file)] ?? "application/octet-stream",
            "cache-control": "no-cache",
            ...SECURITY,
          })
          .end(req.method === "HEAD" ? undefined : body);
      },
      () => {
        res
          .writeHead(404, { "content-type": "text/plain; charset=utf-8", ...BASE_HEADERS })
          .end(path.startsWith("/assets/") ? "not built: run `npm run build`\n" : "not found\n");
      },
    );
  };
}
