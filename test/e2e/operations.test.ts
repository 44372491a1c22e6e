// What an operator runs Parley with: /ready (homeserver, store), /metrics (Prometheus text) and a
// graceful shutdown on SIGTERM (clients told to reconnect elsewhere, the outbox drained, exit 0),
// and its output as JSON lines (log.format: json).
// Parley runs as a real process with its own Synapse, so the homeserver can be stopped under it.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { CLOSE_CODES, reconnectsAfter } from "../../src/protocol/close-codes.ts";
import { type Reply, TestClient } from "../support/client.ts";
import { MatrixUser } from "../support/matrix-user.ts";
import { startTestParley, unique } from "../support/parley.ts";
import { type Stack, startStack } from "../support/stack.ts";

let stack: Stack;
let carol: MatrixUser;
let http: string;

beforeAll(async () => {
  stack = await startStack("operations", {
    config: { gateway: { drain_timeout_ms: 5_000 }, log: { format: "json" } },
  });
  http = stack.gatewayUrl.replace(/^ws/, "http").replace(/\/chat$/, "");
  carol = await MatrixUser.register(stack.config.homeserver.url, unique("carol"), "Carol");
}, 120_000);
afterAll(async () => {
  carol?.stop();
  await stack?.stop();
});

async function getJson(path: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${http}${path}`);
  return { status: response.status, body: await response.json() };
}

async function metricsText(): Promise<string> {
  const response = await fetch(`${http}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  return response.text();
}

/** A sample's value, e.g. sample(text, 'parley_frames_in_total{action="chat.send"}'); 0 if absent. */
function sample(text: string, series: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

/** Waits (at most `ms`) until /ready answers 200. */
async function readyAgain(ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const { status } = await getJson("/ready").catch(() => ({ status: 0 }));
    if (status === 200) return;
    if (Date.now() > deadline) throw new Error("/ready did not answer 200 again");
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function setUp(name: string) {
  const channel = unique(name);
  const alice = await TestClient.login(stack.gatewayUrl, {
    token: await stack.token(unique("alice"), "Alice"),
  });
  const joined = await alice.ok("chat.join", { channel });
  const roomId = (joined.state as { room_id: string }).room_id;
  await carol.join(roomId);
  await alice.waitForEvent((e) => e.sender === carol.userId);
  return { channel, alice, roomId };
}

const sendText = (client: TestClient, channel: string, body: string): Promise<Reply> =>
  client.request("chat.send", { channel, event_type: "channel.message", content: { type: "text", body } });

/** Resolves with the status line of a WebSocket upgrade the server refused (or "open"). */
function upgradeOutcome(url: string): Promise<string> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url);
    ws.once("open", () => {
      ws.close();
      resolve("open");
    });
    ws.once("unexpected-response", (_req, res) => {
      resolve(String(res.statusCode));
      res.resume();
    });
    ws.once("error", (error) => resolve(`error: ${error.message}`));
  });
}

describe("operations", () => {
  it("/ready is 200 while the homeserver answers and the store takes writes; /health is 200", async () => {
    expect(await getJson("/ready")).toEqual({ status: 200, body: { status: "ready" } });
    expect(await getJson("/health")).toEqual({ status: 200, body: { status: "ok" } });
  });

  it("/metrics has every series, counts a sent frame, and labels homeserver calls by template", async () => {
    const { channel, alice, roomId } = await setUp("metrics");
    expect(await alice.errorCode("chat.no_such_action", {})).toBe("protocol.unknown_command");
    const before = await metricsText();
    expect((await sendText(alice, channel, "counted")).ok).toBe(true);
    // Once it is on Matrix, the outbox's homeserver call has been counted too.
    await carol.waitForEvent((r) => r.roomId === roomId && r.event.content.body === "counted");
    const after = await metricsText();

    for (const series of [
      "parley_connections_open",
      "parley_frames_in_total",
      "parley_frames_out_total",
      "parley_errors_total",
      "parley_fanout_deliveries_total",
      "parley_delivery_latency_seconds",
      "parley_homeserver_request_duration_seconds",
      "parley_homeserver_errors_total",
      "parley_outbox_pending",
      "parley_outbox_oldest_age_seconds",
      "parley_inbox_pending",
      "parley_inbox_lag_seconds",
      "nodejs_eventloop_lag_seconds",
      "process_cpu_user_seconds_total",
      "process_resident_memory_bytes",
    ]) {
      expect(after, series).toMatch(new RegExp(`^# TYPE ${series} `, "m"));
    }
    const sends = 'parley_frames_in_total{action="chat.send"}';
    expect(sample(after, sends)).toBe(sample(before, sends) + 1);
    const replies = 'parley_frames_out_total{action="chat.send",kind="reply"}';
    expect(sample(after, replies)).toBe(sample(before, replies) + 1);
    // The pushed event reached alice: one delivery more, and its latency was observed.
    expect(sample(after, "parley_fanout_deliveries_total")).toBeGreaterThan(
      sample(before, "parley_fanout_deliveries_total"),
    );
    expect(sample(after, "parley_delivery_latency_seconds_count")).toBeGreaterThan(
      sample(before, "parley_delivery_latency_seconds_count"),
    );
    expect(sample(after, "parley_connections_open")).toBeGreaterThanOrEqual(1);
    // An unknown action is one series, "other", whatever the client named; its error by code.
    expect(sample(after, 'parley_frames_in_total{action="other"}')).toBeGreaterThanOrEqual(1);
    expect(after).not.toContain("chat.no_such_action");
    expect(sample(after, 'parley_errors_total{code="protocol.unknown_command"}')).toBeGreaterThanOrEqual(1);
    // Homeserver calls: route templates, never a room, user or event id.
    const endpoints = [...after.matchAll(/endpoint="([^"]*)"/g)].map((m) => m[1] ?? "");
    expect(endpoints, endpoints.join("\n")).toContain("/_matrix/client/v3/rooms/{}/send/m.room.message/{}");
    for (const endpoint of endpoints) expect(endpoint).not.toMatch(/[!@$#%]/);
    alice.close();
  }, 60_000);

  it("with metrics.port set, /metrics is served there and not on the gateway's port", async () => {
    const own = await startTestParley({ metrics: { port: 0 } });
    try {
      const port = own.parley().metricsPort;
      expect(port).toBeGreaterThan(0);
      const there = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(there.status).toBe(200);
      expect(await there.text()).toMatch(/^# TYPE parley_connections_open gauge$/m);
      expect((await fetch(`http://127.0.0.1:${port}/ready`)).status).toBe(404);
      expect((await fetch(`${own.httpUrl()}/metrics`)).status).toBe(404);
      expect((await fetch(`${own.httpUrl()}/ready`)).status).toBe(200);
    } finally {
      await own.stop();
    }
  }, 60_000);

  it("with the homeserver down, /ready names it; a SIGTERM then drains for a bounded time, loses nothing, exits 0", async () => {
    const { channel, alice, roomId } = await setUp("outage");
    await stack.synapse.stop();
    let restarted = false;
    try {
      expect(await getJson("/ready")).toEqual({
        status: 503,
        body: { status: "unready", failed: ["homeserver"] },
      });
      // Accepted while the homeserver is away: it waits in the outbox.
      expect((await sendText(alice, channel, "queued before the restart")).ok).toBe(true);

      const stopped = stack.stopParley();
      const closed = await alice.closed;
      expect(closed.code).toBe(CLOSE_CODES.goingAway.code);
      expect(reconnectsAfter(closed.code)).toBe(true);
      // While it drains (the outbox cannot empty: it waits out drain_timeout_ms), a balancer is
      // told to stop sending, and a new client to go elsewhere.
      expect(await getJson("/ready")).toEqual({ status: 503, body: { status: "draining" } });
      expect(await upgradeOutcome(stack.gatewayUrl)).toBe("503");
      expect(await stopped).toBe(0);

      await stack.synapse.restart();
      restarted = true;
      await stack.startParley();
      await readyAgain(30_000);
      await carol.waitForEvent(
        (r) => r.roomId === roomId && r.event.content.body === "queued before the restart",
        60_000,
      );
    } finally {
      if (!restarted) await stack.synapse.restart();
    }
  }, 180_000);

  it("SIGTERM closes connected clients with 1001 and exits 0 once every accepted message is on Matrix", async () => {
    const { channel, alice, roomId } = await setUp("drain");
    const bodies = Array.from({ length: 20 }, (_, i) => `before the stop ${i}`);
    for (const body of bodies) expect((await sendText(alice, channel, body)).ok).toBe(true);
    const exitCode = await stack.stopParley();
    expect((await alice.closed).code).toBe(CLOSE_CODES.goingAway.code);
    expect(exitCode).toBe(0);
    // Parley is gone: what is on the homeserver now is what it handed over before exiting.
    expect(await carol.roomBodies(roomId)).toEqual(bodies);
    await stack.startParley();
  }, 120_000);

  it("with log.format json, everything the process wrote is one JSON object a line", () => {
    const lines = readFileSync(join(stack.root, "parley.log"), "utf8").split("\n").filter(Boolean);
    expect(lines.length).toBeGreaterThan(10);
    for (const line of lines) {
      const entry = JSON.parse(line) as Record<string, unknown>;
      expect(Object.keys(entry), line).toEqual(expect.arrayContaining(["ts", "level", "module", "message"]));
    }
    const messages = lines.map((line) => (JSON.parse(line) as { message: string }).message);
    expect(messages).toContain("SIGTERM: draining, then stopping");
    expect(messages.some((m) => m.startsWith("native clients connect to ws://"))).toBe(true);
  });
});
