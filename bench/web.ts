// The web page's weight and first paint: the built page served by Parley's own web route (no
// homeserver needed to paint), loaded cold in Chromium (a fresh profile each time), against the
// anchors of issue 16: script under 100 KB gzipped, first paint under 1 s.
// `node bench/web.ts` runs it alone (after `npm run build`).
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join, resolve } from "node:path";
import { gzipSync } from "node:zlib";
import { chromium } from "playwright-core";
import { webRoutes } from "../src/gateway/web-http.ts";
import { summarize } from "./stats.ts";

const CHROMIUM = "/usr/bin/chromium";
const LOADS = 20;
const SCRIPT_ANCHOR_KB = 100;
const PAINT_ANCHOR_MS = 1000;

export interface WebResult {
  readonly scriptGzipBytes: number;
  readonly scriptFiles: number;
  readonly firstPaint: ReturnType<typeof summarize> | undefined;
  readonly skipped?: string;
}

async function scriptWeight(): Promise<{ bytes: number; files: number }> {
  const dist = resolve("web/dist");
  let bytes = 0;
  let files = 0;
  for (const entry of await readdir(dist, { recursive: true })) {
    if (!entry.endsWith(".js")) continue;
    bytes += gzipSync(await readFile(join(dist, entry)), { level: 6 }).length;
    files++;
  }
  return { bytes, files };
}

export async function webBench(): Promise<WebResult> {
  if (!existsSync(resolve("web/dist/web/src/main.js")))
    throw new Error("the page is not built: run `npm run build`");
  const { bytes, files } = await scriptWeight();
  if (!existsSync(CHROMIUM)) {
    return { scriptGzipBytes: bytes, scriptFiles: files, firstPaint: undefined, skipped: `no ${CHROMIUM}` };
  }
  const route = webRoutes("/chat");
  const server = createServer((req, res) => {
    const handled = route(req, res, new URL(req.url ?? "/", "http://localhost"));
    if (handled === false) res.writeHead(404).end();
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--no-first-run",
    ],
  });
  const paints: number[] = [];
  try {
    for (let i = 0; i < LOADS; i++) {
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(url, { waitUntil: "load" });
      const paint = await page.evaluate<number>(
        `new Promise((done) => {
          const found = () => performance.getEntriesByName("first-contentful-paint")[0];
          if (found()) return done(found().startTime);
          new PerformanceObserver(() => found() && done(found().startTime)).observe({ type: "paint", buffered: true });
        })`,
      );
      paints.push(paint);
      await context.close();
    }
  } finally {
    await browser.close();
    server.close();
  }
  return { scriptGzipBytes: bytes, scriptFiles: files, firstPaint: summarize(paints) };
}

export function printWeb(result: WebResult): void {
  const kb = result.scriptGzipBytes / 1024;
  const lines = [
    "",
    "web page (served by Parley's web route, Chromium, cold: a fresh profile per load)",
    `script, gzipped: ${kb.toFixed(1)} KB in ${result.scriptFiles} modules (anchor: under ${SCRIPT_ANCHOR_KB} KB) ${kb < SCRIPT_ANCHOR_KB ? "ok" : "OVER"}`,
  ];
  if (result.firstPaint) {
    const p = result.firstPaint;
    lines.push(
      `first contentful paint over ${p.count} loads: p50 ${p.p50.toFixed(0)} ms, p99 ${p.p99.toFixed(0)} ms, max ${p.max.toFixed(0)} ms (anchor: under ${PAINT_ANCHOR_MS} ms) ${p.max < PAINT_ANCHOR_MS ? "ok" : "OVER"}`,
    );
  } else lines.push(`first paint not measured: ${result.skipped ?? "no browser"}`);
  console.log(lines.join("\n"));
}

if (import.meta.main) {
  printWeb(await webBench());
}
