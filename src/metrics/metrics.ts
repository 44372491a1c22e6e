// Parley's Prometheus metrics (prom-client), one registry per Parley. The rest of the code never
// imports prom-client: the gateway reports through its GatewayObserver, the Matrix side through
// its HomeserverObserver, the fan-out is wrapped here, and the queues are read at scrape time.
// Every label is bounded: actions and error codes by the lists the server knows, homeserver
// endpoints by their route templates. docs/operations.md lists the series.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { FanOut } from "../domain/ports/fanout.ts";
import type { GatewayObserver } from "../gateway/observer.ts";
import type { HomeserverObserver } from "../matrix/homeserver-requests.ts";
import type { OutgoingFrame } from "../protocol/frames.ts";

export interface QueueStats {
  readonly pending: number;
  readonly oldestAgeMs: number | null;
}

/** Where the gauges read at scrape time; each is asked once per scrape. */
export interface QueueSources {
  /** Native actions waiting for the homeserver (the outbox). */
  outbox(): Promise<QueueStats>;
  /** Homeserver events written down and not processed yet (the inbox). */
  inbox(): Promise<QueueStats>;
}

export interface Metrics {
  readonly contentType: string;
  /** The exposition text. */
  text(): Promise<string>;
  readonly gateway: GatewayObserver;
  readonly homeserver: HomeserverObserver;
  /** The fan-out, with the latency of each event push (from the event's time to the push) timed. */
  timed(fanout: FanOut): FanOut;
  /** Adds the queue gauges, read from `sources` at each scrape. */
  watchQueues(sources: QueueSources): void;
}

const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** Frames a client sends that are not requests. */
const FRAME_KINDS = ["authenticate", "ping", "bad"];

/** A label from a known list, or `other`: nothing a client sends can add a series. */
const bounded = (known: ReadonlySet<string>) => (value: string) => (known.has(value) ? value : "other");

/** Children of a counter by label value, looked up once (hashing labels on every push adds up). */
function children<T>(make: (label: string) => T): (label: string) => T {
  const made = new Map<string, T>();
  return (label) => {
    let child = made.get(label);
    if (child === undefined) {
      child = make(label);
      made.set(label, child);
    }
    return child;
  };
}

export function createMetrics(known: { actions: readonly string[]; errorCodes: readonly string[] }): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const action = bounded(new Set([...known.actions, ...FRAME_KINDS]));
  const errorCode = bounded(new Set(known.errorCodes));

  const connections = new Gauge({
    name: "parley_connections_open",
    help: "Open client WebSocket connections on this node.",
    registers: [registry],
  });
  const framesIn = new Counter({
    name: "parley_frames_in_total",
    help: "Frames received from clients, by action (`other` for unknown ones).",
    labelNames: ["action"],
    registers: [registry],
  });
  const framesOut = new Counter({
    name: "parley_frames_out_total",
    help: "Frames sent to clients: replies by the action they answer, pushes by their own action.",
    labelNames: ["action", "kind"],
    registers: [registry],
  });
  const errors = new Counter({
    name: "parley_errors_total",
    help: "Error replies sent to clients, by error code.",
    labelNames: ["code"],
    registers: [registry],
  });
  const deliveries = new Counter({
    name: "parley_fanout_deliveries_total",
    help: "Pushes handed to a client connection by the fan-out (one per recipient).",
    registers: [registry],
  });
  const deliveryLatency = new Histogram({
    name: "parley_delivery_latency_seconds",
    help: "From an event's time (a native one's acceptance, a Matrix one's origin_server_ts) to its push on this node.",
    buckets: SECONDS,
    registers: [registry],
  });
  const homeserverLatency = new Histogram({
    name: "parley_homeserver_request_duration_seconds",
    help: "Homeserver calls by endpoint (a route template) and method.",
    labelNames: ["endpoint", "method"],
    buckets: SECONDS,
    registers: [registry],
  });
  const homeserverErrors = new Counter({
    name: "parley_homeserver_errors_total",
    help: "Homeserver calls answered with a non-2xx status, or not at all (status `none`).",
    labelNames: ["endpoint", "method", "status"],
    registers: [registry],
  });

  const inCounter = children((label) => framesIn.labels(label));
  const replyCounter = children((label) => framesOut.labels(label, "reply"));
  const pushCounter = children((label) => framesOut.labels(label, "push"));
  const errorCounter = children((label) => errors.labels(label));

  const gateway: GatewayObserver = {
    connectionOpened: () => connections.inc(),
    connectionClosed: () => connections.dec(),
    frameIn: (label) => inCounter(action(label)).inc(),
    replied(label, code) {
      replyCounter(action(label)).inc();
      if (code !== undefined) errorCounter(errorCode(code)).inc();
    },
    pushed(label) {
      // Push actions are the server's own: a fixed set.
      pushCounter(label).inc();
      deliveries.inc();
    },
  };

  const homeserver: HomeserverObserver = (call) => {
    homeserverLatency.labels(call.endpoint, call.method).observe(call.seconds);
    if (call.status === undefined || call.status < 200 || call.status >= 300) {
      homeserverErrors.labels(call.endpoint, call.method, String(call.status ?? "none")).inc();
    }
  };

  /** A pushed event's age, once per push (not per recipient). */
  const observePush = (frame: OutgoingFrame) => {
    if (frame[0] !== "chat.event") return;
    const ts = (frame[1] as { ts?: unknown } | undefined)?.ts;
    if (typeof ts === "number") deliveryLatency.observe(Math.max(0, Date.now() - ts) / 1000);
  };

  return {
    contentType: registry.contentType,
    text: () => registry.metrics(),
    gateway,
    homeserver,
    timed(fanout) {
      // A proxy, so the fan-out's other methods (and any added later) pass through unchanged;
      // methods are bound to the fan-out itself (its private fields need it).
      const bound = new Map<PropertyKey, unknown>();
      const publishHere: FanOut["publishHere"] = (channel, frame, filter) => {
        fanout.publishHere(channel, frame, filter);
        observePush(frame);
      };
      return new Proxy(fanout, {
        get(target, property) {
          if (property === "publishHere") return publishHere;
          const value: unknown = Reflect.get(target, property, target);
          if (typeof value !== "function") return value;
          let method = bound.get(property);
          if (method === undefined) {
            method = value.bind(target);
            bound.set(property, method);
          }
          return method;
        },
      });
    },
    watchQueues(sources) {
      const outbox = cached(sources.outbox);
      const inbox = cached(sources.inbox);
      const gauge = (name: string, help: string, read: typeof outbox, value: (stats: QueueStats) => number) =>
        new Gauge({
          name,
          help,
          registers: [registry],
          async collect() {
            const stats = await read();
            if (stats) this.set(value(stats));
          },
        });
      const pending = (stats: QueueStats) => stats.pending;
      const oldestAge = (stats: QueueStats) => (stats.oldestAgeMs ?? 0) / 1000;
      gauge(
        "parley_outbox_pending",
        "Native actions waiting to reach the homeserver (all nodes: they share the store).",
        outbox,
        pending,
      );
      gauge(
        "parley_outbox_oldest_age_seconds",
        "Age of the oldest native action waiting for the homeserver; 0 when none waits.",
        outbox,
        oldestAge,
      );
      gauge("parley_inbox_pending", "Homeserver events received and not processed yet.", inbox, pending);
      gauge(
        "parley_inbox_lag_seconds",
        "Age of the oldest homeserver event received and not processed yet; 0 when none waits.",
        inbox,
        oldestAge,
      );
    },
  };
}

/**
 * One read per scrape for two gauges: the answer is kept for a second. A failed read (the store
 * is down) leaves the gauges as they were; /ready says what is wrong.
 */
function cached(read: () => Promise<QueueStats>): () => Promise<QueueStats | undefined> {
  let last: { at: number; value: Promise<QueueStats | undefined> } | undefined;
  return () => {
    const now = Date.now();
    if (!last || now - last.at > 1000) last = { at: now, value: read().catch(() => undefined) };
    return last.value;
  };
}
