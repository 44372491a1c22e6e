// Browser end-to-end helpers: Debian's Chromium driven by playwright-core (which cannot download its own
// browsers here), and Tesseract OCR to check what a screenshot actually shows.
// scripts/test-tools.sh install puts both binaries in place.

import { execFile } from "node:child_process";
import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import type { Browser, Page } from "playwright-core";
import { chromium } from "playwright-core";

export const CHROMIUM_PATH = "/usr/bin/chromium";

const OCR_TIMEOUT_MS = 30_000;

// The background-networking flags keep Chromium from dialling out to Google, which this machine's
// closed network refuses (many connections at a time, and failed DNS lookups at every start).
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Headless Debian Chromium with a fresh temporary profile (Playwright makes one per launch). */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
}

/** The text Tesseract reads in a PNG file. */
export function ocr(pngPath: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      "tesseract",
      [pngPath, "stdout"],
      {
        timeout: OCR_TIMEOUT_MS,
        maxBuffer: 16 * 1024 * 1024,
        env: { ...process.env, OMP_THREAD_LIMIT: "1" },
      },
      (error, stdout, stderr) => {
        if (error) {
          reject(new Error(`tesseract ${pngPath} failed: ${error.message}\n${stderr}`));
          return;
        }
        resolve(stdout);
      },
    );
  });
}

/** Saves a full-page PNG screenshot of `page` to `path` and returns the text OCR reads in it. */
export async function screenshotText(page: Page, path: string): Promise<string> {
  await mkdir(dirname(path), { recursive: true });
  await page.screenshot({ path, fullPage: true });
  return ocr(path);
}
