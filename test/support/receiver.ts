// A subscriber's HTTP endpoint for tests: a real server on 127.0.0.1 (port 0) that records every
// POST (headers and the raw body) per path and answers as told: a status, or never (the request
// hangs until the client gives up or the receiver closes). It can go down and come back on the
// same port, as a subscriber's server restarting would.
import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface Received {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  /** The exact body bytes, as text. */
  readonly raw: string;
  readonly body: Record<string, unknown>;
  /** The client closed the request before it was answered (a timeout, an abandoned delivery). */
  abandoned: boolean;
}

/** What the `n`th request (0-based) to a path is answered with; "hang" never answers it. */
export type Answer = (n: number) => number | "hang";

export class Receiver {
  readonly received: Received[] = [];
  readonly #answers = new Map<string, Answer>();
  readonly #hanging = new Set<ServerResponse>();
  readonly #server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const path = req.url ?? "/";
      const raw = Buffer.concat(chunks).toString("utf8");
      const record: Received = {
        path,
        headers: req.headers,
        raw,
        body: JSON.parse(raw) as Record<string, unknown>,
        abandoned: false,
      };
      const n = this.received.filter((r) => r.path === path).length;
      this.received.push(record);
      const answer = (this.#answers.get(path) ?? (() => 200))(n);
      if (answer === "hang") {
        this.#hanging.add(res);
        res.on("close", () => {
          this.#hanging.delete(res);
          if (!res.writableEnded) record.abandoned = true;
        });
        return;
      }
      res.writeHead(answer, { "content-type": "text/plain" }).end("ok");
    });
  });
  #port = 0;

  static async start(): Promise<Receiver> {
    const receiver = new Receiver();
    await receiver.up();
    return receiver;
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.#port}${path}`;
  }

  answer(path: string, answer: Answer): void {
    this.#answers.set(path, answer);
  }

  of(path: string): Received[] {
    return this.received.filter((r) => r.path === path);
  }

  /** Polls until `done` holds (or fails after 10 s with `what`). */
  async until(done: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /** Listens (again, on the same port once it had one). */
  async up(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once("error", reject);
      this.#server.listen(this.#port, "127.0.0.1", () => {
        this.#server.off("error", reject);
        resolve();
      });
    });
    this.#port = (this.#server.address() as AddressInfo).port;
  }

  /** Stops listening and drops every connection: deliveries then find nobody there. */
  async down(): Promise<void> {
    for (const res of this.#hanging) res.destroy();
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#server.closeAllConnections();
    await closed;
  }
}
