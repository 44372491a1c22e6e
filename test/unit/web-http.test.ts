// The web page's security headers: framed only by its own origin and the listed player pages,
// images from its own origin and from public_url's.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, expect, it } from "vitest";
import { webRoutes } from "../../src/gateway/web-http.ts";

let server: Server;
let base: string;
beforeAll(async () => {
  const route = webRoutes("/chat", ["https://player.example.org"], "https://media.example.org/base");
  server = createServer((req, res) => {
    if (route(req, res, new URL(req.url ?? "/", "http://localhost")) === false) res.writeHead(404).end();
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server?.close();
});

it("lets only the listed origins frame the page, and loads images from public_url's origin", async () => {
  const response = await fetch(`${base}/`);
  expect(response.status).toBe(200);
  const policy = response.headers.get("content-security-policy") ?? "";
  const directives = Object.fromEntries(
    policy.split(";").map((part) => {
      const [name = "", ...values] = part.trim().split(/\s+/);
      return [name, values];
    }),
  );
  expect(directives["frame-ancestors"]).toEqual(["'self'", "https://player.example.org"]);
  expect(directives["img-src"]).toEqual(["'self'", "data:", "https://media.example.org"]);
  expect(directives["script-src"]).toBeUndefined(); // default-src 'self': no inline script
  expect(directives["default-src"]).toEqual(["'self'"]);
  // The page is told where the WebSocket is.
  expect(await response.text()).toContain('content="/chat"');
});
