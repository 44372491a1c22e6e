// The browser test setup itself, without Parley: Debian's Chromium through playwright-core renders a
// local page, takes a click, and Tesseract reads the screenshot back.
import { mkdtemp, rm } from "node:fs/promises";
import type { Server } from "node:http";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser, screenshotText } from "../support/browser.ts";

// Large black-on-white text so OCR reads it reliably.
const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Parley browser check</title>
<style>
  body { background: #fff; color: #000; font: 48px "DejaVu Sans", sans-serif; margin: 40px; }
  h1 { font-size: 48px; font-weight: bold; }
  button { font-size: 48px; padding: 8px 24px; }
</style>
</head>
<body>
<h1>Parley browser check</h1>
<button id="go" type="button">Click me</button>
<div id="out"></div>
<script>
  document.getElementById("go").addEventListener("click", () => {
    const p = document.createElement("p");
    p.textContent = "Clicked!";
    document.getElementById("out").append(p);
  });
</script>
</body>
</html>`;

let server: Server;
let url: string;
let browser: Browser | undefined;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "parley-browser-"));
  server = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end(PAGE);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  if (dir && !process.env.PARLEY_KEEP_TEST_DATA) await rm(dir, { recursive: true, force: true });
});

describe("browser setup", () => {
  it("renders a local page, takes a click, and OCR reads the screenshot", async () => {
    if (!browser) throw new Error("browser did not launch");
    const context = await browser.newContext({ viewport: { width: 1000, height: 600 } });
    try {
      const page = await context.newPage();
      await page.goto(url);
      await expect(page.locator("h1").textContent()).resolves.toBe("Parley browser check");
      await expect(page.locator("#out p").count()).resolves.toBe(0);

      await page.click("#go");
      await page.locator("#out p").waitFor();
      await expect(page.locator("#out").innerText()).resolves.toBe("Clicked!");

      const text = await screenshotText(page, join(dir, "smoke.png"));
      expect(text).toContain("Parley browser check");
      expect(text).toContain("Clicked");
    } finally {
      await context.close();
    }
  });
});
