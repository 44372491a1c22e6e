// Event subscriptions (outgoing webhooks): each matching logged event is POSTed to the
// subscriber's URL, signed with its secret, at least once, per channel in event_id order. Nothing
// is copied: the event log is durable, and each subscription keeps a cursor per channel in the
// store (the last event it passed) with the retry state of the next one. One delivery per
// (subscription, channel) is in flight; different ones go independently, a bounded number at
// once, one subscriber taking at most a quarter of them, each with a timeout: a slow or failing
// subscriber delays nobody else, and the chat path only ever wakes the dispatcher. A failed
// delivery is tried again with exponential back-off until it has failed for
// `give_up_after_hours`; then that event is passed over (logged) and the next goes. One node of
// an installation delivers: the holder of the `subscriptions` lease.
import { randomBytes, randomUUID } from "node:crypto";
import type { Logger } from "../../logging.ts";
import { ProtocolError } from "../../protocol/errors.ts";
import { failingFields } from "../../protocol/schemas.ts";
import { subscriptionRequestSchema } from "../../protocol/subscriptions.ts";
import { guarded } from "../../shared/guard.ts";
import type { ChannelRow, Store, StoredEvent, SubscriptionRow } from "../ports/store.ts";
import type { SubscriberClient } from "../ports/subscriber.ts";
import { deliveryOf, follows, retryDelay, wants } from "./delivery.ts";

/** A subscription as its owner sees it (the secret is shown once, by `create`). */
export interface SubscriptionView {
  readonly id: string;
  readonly url: string;
  /** Channel names; null: every channel. */
  readonly channels: readonly string[] | null;
  /** Event types; null: every type. */
  readonly events: readonly string[] | null;
  /** Milliseconds since the epoch. */
  readonly created_at: number;
  readonly created_by: string;
}

/** As a request has it (validated here: see subscriptionRequestSchema). */
export interface NewSubscription {
  readonly url: string;
  readonly channels?: readonly string[] | undefined;
  readonly events?: readonly string[] | undefined;
  /** Who makes it (an API key's id, say). */
  readonly createdBy: string;
}

export interface Subscriptions {
  /** Refused with `protocol.invalid_payload` (and `fields`) unless valid; the URL must be http(s). */
  create(request: NewSubscription): Promise<SubscriptionView & { readonly secret: string }>;
  list(): Promise<SubscriptionView[]>;
  /** Deliveries stop at once (one in flight is abandoned); false when there was no such subscription. */
  remove(id: string): Promise<boolean>;
  /** Takes the lease (or waits for it) and delivers what is left over from before. */
  start(): Promise<void>;
  /** Abandons deliveries in flight (they are made again later) and gives the lease back. */
  stop(): Promise<void>;
  /** A new event was logged in the channel (on any node): deliver it soon. */
  wake(channelId: number): void;
  /** Another node made or removed a subscription: read them again (if this node delivers). */
  changedElsewhere(): void;
}

export interface SubscriptionSettings {
  readonly concurrency: number;
  readonly timeoutMs: number;
  readonly retryFirstDelayMs: number;
  readonly retryMaxDelayMs: number;
  readonly giveUpAfterHours: number;
  readonly scanIntervalMs: number;
}

export interface SubscriptionsDeps {
  readonly store: Store;
  readonly client: SubscriberClient;
  readonly settings: SubscriptionSettings;
  /** This node, as the lease holder. */
  readonly nodeId: string;
  /** Tells the other nodes a subscription was made or removed here (the deliverer may be one). */
  readonly changed?: () => void;
  readonly log: Logger;
}

export const SUBSCRIPTIONS_LEASE = "subscriptions";
/** The lease lasts this long unless renewed: a delivering node that died is replaced after it. */
export const SUBSCRIPTIONS_LEASE_MS = 15_000;
/** Events read from the log at once, per (subscription, channel). */
const PAGE = 100;

type Outcome =
  | { readonly kind: "delivered" }
  | { readonly kind: "failed"; readonly error: string }
  /** Removed or stopping: nothing is recorded. */
  | { readonly kind: "abandoned" };

const view = (row: SubscriptionRow): SubscriptionView => ({
  id: row.id,
  url: row.url,
  channels: row.channels,
  events: row.events,
  created_at: row.createdAt,
  created_by: row.createdBy,
});

const unique = <T>(items: readonly T[] | undefined): T[] | null => (items ? [...new Set(items)] : null);

const reason = (error: unknown, timeoutMs: number): string => {
  if (error instanceof Error && error.name === "TimeoutError") return `no answer within ${timeoutMs} ms`;
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : "";
    return `${error.message}${cause}`;
  }
  return String(error);
};

export function createSubscriptions(deps: SubscriptionsDeps): Subscriptions {
  const { store, client, settings, nodeId, log } = deps;
  const perSubscription = Math.max(1, Math.ceil(settings.concurrency / 4));
  const giveUpMs = settings.giveUpAfterHours * 3_600_000;

  /** Every subscription, as last read (the scan reads them again: others may be made elsewhere). */
  const subs = new Map<string, SubscriptionRow>();
  /** Removed here: a list read before the removal must not bring them back. */
  const removed = new Set<string>();
  /** Channels by id (only the name is used, and names do not change). */
  const channels = new Map<number, ChannelRow>();
  /** (subscription, channel) pairs being worked on, woken meanwhile, and waiting for a retry. */
  const running = new Map<string, Promise<void> | null>();
  const rewake = new Set<string>();
  const timers = new Map<string, NodeJS.Timeout>();
  /** Deliveries in flight per subscription, to abandon on removal or stop. */
  const inFlight = new Map<string, Set<AbortController>>();
  let busy = 0;
  const waiting: Array<{ subscriptionId: string; go: () => void }> = [];
  let stopped = true;
  let leader = false;
  let heartbeat: NodeJS.Timeout | undefined;
  let scanTimer: NodeJS.Timeout | undefined;

  const keyOf = (subscriptionId: string, channelId: number) => `${subscriptionId} ${channelId}`;

  /** Slots held per subscription. */
  const held = new Map<string, number>();
  const heldBy = (subscriptionId: string) => held.get(subscriptionId) ?? 0;
  const grant = (subscriptionId: string) => {
    busy += 1;
    held.set(subscriptionId, heldBy(subscriptionId) + 1);
  };

  /** A place among the deliveries in flight: one of `concurrency`, within its subscription's share. */
  const slot = async (subscriptionId: string): Promise<() => void> => {
    if (busy < settings.concurrency && heldBy(subscriptionId) < perSubscription) grant(subscriptionId);
    // Granted by the release that makes room for it.
    else await new Promise<void>((go) => waiting.push({ subscriptionId, go }));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      busy -= 1;
      const left = heldBy(subscriptionId) - 1;
      if (left > 0) held.set(subscriptionId, left);
      else held.delete(subscriptionId);
      // The first waiters whose subscriptions are under their share go next.
      while (busy < settings.concurrency) {
        const index = waiting.findIndex((w) => heldBy(w.subscriptionId) < perSubscription);
        const next = index >= 0 ? waiting.splice(index, 1)[0] : undefined;
        if (!next) break;
        grant(next.subscriptionId);
        next.go();
      }
    };
  };

  const channelOf = async (channelId: number): Promise<ChannelRow | undefined> => {
    const known = channels.get(channelId);
    if (known) return known;
    const row = await store.channelById(channelId);
    if (row) channels.set(channelId, row);
    return row;
  };

  const attempt = async (
    subscription: SubscriptionRow,
    channel: ChannelRow,
    stored: StoredEvent,
  ): Promise<Outcome> => {
    const delivery = deliveryOf(subscription, channel, stored);
    const controller = new AbortController();
    const release = await slot(subscription.id);
    const mine = inFlight.get(subscription.id) ?? new Set();
    inFlight.set(subscription.id, mine);
    mine.add(controller);
    try {
      if (stopped || !subs.has(subscription.id)) return { kind: "abandoned" };
      const signal = AbortSignal.any([controller.signal, AbortSignal.timeout(settings.timeoutMs)]);
      const status = await client.post(subscription.url, delivery.body, delivery.headers, signal);
      if (status >= 200 && status < 300) return { kind: "delivered" };
      return { kind: "failed", error: `HTTP ${status}` };
    } catch (error) {
      if (controller.signal.aborted) return { kind: "abandoned" };
      return { kind: "failed", error: reason(error, settings.timeoutMs) };
    } finally {
      mine.delete(controller);
      if (mine.size === 0 && inFlight.get(subscription.id) === mine) inFlight.delete(subscription.id);
      release();
    }
  };

  const schedule = (subscriptionId: string, channelId: number, at: number) => {
    const key = keyOf(subscriptionId, channelId);
    clearTimeout(timers.get(key));
    const timer = setTimeout(
      guarded(log, "a subscription's retry", () => {
        timers.delete(key);
        return run(subscriptionId, channelId);
      }),
      Math.max(0, at - Date.now()),
    );
    timer.unref();
    timers.set(key, timer);
  };

  /** Delivers one channel's events to one subscription, in order, until none are left or one fails. */
  const drain = async (subscriptionId: string, channelId: number): Promise<void> => {
    for (;;) {
      if (stopped || !leader || !subs.has(subscriptionId)) return;
      const cursor = await store.subscriptionCursor(subscriptionId, channelId);
      if (!cursor) {
        forget(subscriptionId);
        return;
      }
      const subscription = cursor.subscription;
      const channel = await channelOf(channelId);
      if (!channel || !follows(subscription, channel.name)) return;
      if (cursor.nextAttemptAt > Date.now()) {
        schedule(subscriptionId, channelId, cursor.nextAttemptAt);
        return;
      }
      const page = await store.eventsBetween(channelId, { after: cursor.seq }, PAGE, false);
      const last = page.at(-1);
      if (!last) return;
      const next = page.find((event) => wants(subscription, event.eventType));
      if (!next) {
        // Nothing it wants: the cursor moves past them, and the next page is read.
        await store.advanceSubscriptionCursor(subscriptionId, channelId, cursor.seq, last.seq);
        continue;
      }
      const outcome = await attempt(subscription, channel, next);
      if (outcome.kind === "abandoned") return;
      if (outcome.kind === "delivered") {
        // False when the cursor moved elsewhere meanwhile: read again.
        await store.advanceSubscriptionCursor(subscriptionId, channelId, cursor.seq, next.seq);
        continue;
      }
      const now = Date.now();
      const firstFailureAt = cursor.firstFailureAt ?? now;
      if (now - firstFailureAt >= giveUpMs) {
        log.warn(
          `subscription ${subscriptionId} gave up on event ${next.seq} of ${channel.name} after ${cursor.attempts + 1} attempts since ${new Date(firstFailureAt).toISOString()} (${outcome.error}); going on with the next`,
        );
        await store.advanceSubscriptionCursor(subscriptionId, channelId, cursor.seq, next.seq);
        continue;
      }
      const attempts = cursor.attempts + 1;
      const nextAttemptAt = now + retryDelay(attempts, settings.retryFirstDelayMs, settings.retryMaxDelayMs);
      const recorded = await store.recordSubscriptionFailure(subscriptionId, channelId, cursor.seq, {
        attempts,
        nextAttemptAt,
        firstFailureAt,
        lastError: outcome.error,
      });
      if (!recorded) continue; // moved or removed meanwhile: read again
      if (attempts === 1 || attempts % 10 === 0) {
        log.info(
          `subscription ${subscriptionId}: event ${next.seq} of ${channel.name} failed (${outcome.error}), attempt ${attempts}; trying again`,
        );
      }
      schedule(subscriptionId, channelId, nextAttemptAt);
      return;
    }
  };

  const run = (subscriptionId: string, channelId: number): Promise<void> => {
    if (stopped || !leader) return Promise.resolve();
    const key = keyOf(subscriptionId, channelId);
    if (running.has(key)) {
      // The drain may be past its last look at the log: it looks again when it ends.
      rewake.add(key);
      return Promise.resolve();
    }
    clearTimeout(timers.get(key));
    timers.delete(key);
    running.set(key, null);
    const work = drain(subscriptionId, channelId)
      .catch((error: unknown) => {
        // The store failed (a database restart, say): the events wait in the log; try again soon.
        log.warn(
          `delivering channel ${channelId} to subscription ${subscriptionId} failed; trying again soon`,
          error,
        );
        if (!stopped) schedule(subscriptionId, channelId, Date.now() + settings.retryFirstDelayMs);
      })
      .finally(() => {
        running.delete(key);
        if (rewake.delete(key)) void run(subscriptionId, channelId);
      });
    if (running.has(key)) running.set(key, work);
    return work;
  };

  /** A pair with work: go now, unless it waits for a retry (its timer wakes it). */
  const poke = (subscriptionId: string, channelId: number) => {
    const key = keyOf(subscriptionId, channelId);
    if (timers.has(key) && !running.has(key)) return;
    void run(subscriptionId, channelId);
  };

  /** Stops everything of a removed subscription here (its cursors went with it in the store). */
  const forget = (id: string) => {
    subs.delete(id);
    removed.add(id);
    for (const controller of inFlight.get(id) ?? []) controller.abort();
    for (const [key, timer] of timers) {
      if (key.startsWith(`${id} `)) {
        clearTimeout(timer);
        timers.delete(key);
      }
    }
  };

  const refresh = async () => {
    // Known before the read: one made here while it runs is not missing from it.
    const known = [...subs.keys()];
    const rows = await store.subscriptions();
    const ids = new Set(rows.map((row) => row.id));
    for (const row of rows) if (!removed.has(row.id)) subs.set(row.id, row);
    // Removed on another node.
    for (const id of known) if (!ids.has(id)) forget(id);
  };

  /** Everything left to deliver, whoever logged it and whenever: after a restart, or a lost wake-up. */
  const scan = async () => {
    if (stopped || !leader) return;
    await refresh();
    const now = Date.now();
    for (const { subscriptionId, channelId, nextAttemptAt } of await store.subscriptionBacklog()) {
      if (!subs.has(subscriptionId)) continue;
      const key = keyOf(subscriptionId, channelId);
      if (running.has(key) || timers.has(key)) continue;
      if (nextAttemptAt > now) schedule(subscriptionId, channelId, nextAttemptAt);
      else void run(subscriptionId, channelId);
    }
  };

  /** No longer the node that delivers: nothing more goes out from here, not even what is in flight. */
  const stepDown = (why: string) => {
    if (!leader) return;
    leader = false;
    log.warn(why);
    for (const timer of timers.values()) clearTimeout(timer);
    timers.clear();
    for (const controllers of inFlight.values()) for (const controller of controllers) controller.abort();
  };
  /** When the lease last renewed: past its end without a renewal, another node may have it. */
  let heldUntil = 0;
  const claim = async () => {
    if (stopped) return;
    const now = Date.now();
    let held: boolean;
    try {
      held = await store.acquireLease(SUBSCRIPTIONS_LEASE, nodeId, SUBSCRIPTIONS_LEASE_MS, now);
    } catch (error) {
      // The store is away: keep delivering only while the lease we had still holds.
      if (Date.now() + SUBSCRIPTIONS_LEASE_MS / 3 >= heldUntil)
        stepDown("the event subscriptions' lease could not be renewed in time");
      throw error;
    }
    if (held) heldUntil = now + SUBSCRIPTIONS_LEASE_MS;
    if (held && !leader && !stopped) {
      leader = true;
      log.info("this node delivers event subscriptions");
      await scan();
    } else if (!held) stepDown("another node took over event subscriptions");
  };

  return {
    async create(request) {
      const parsed = subscriptionRequestSchema.safeParse({
        url: request.url,
        channels: request.channels,
        events: request.events,
      });
      if (!parsed.success) {
        const fields = failingFields(parsed.error);
        throw new ProtocolError("protocol.invalid_payload", `Invalid subscription: ${fields.join(", ")}.`, {
          fields,
        });
      }
      const row: SubscriptionRow = {
        id: randomUUID(),
        url: parsed.data.url,
        secret: randomBytes(32).toString("hex"),
        channels: unique(parsed.data.channels),
        events: unique(parsed.data.events),
        createdAt: Date.now(),
        createdBy: request.createdBy,
      };
      await store.createSubscription(row);
      subs.set(row.id, row);
      deps.changed?.();
      return { ...view(row), secret: row.secret };
    },
    list: async () => (await store.subscriptions()).map(view),
    async remove(id) {
      // Stopped here first: from now on nothing is posted for it, and what is in flight is abandoned.
      forget(id);
      try {
        const gone = await store.removeSubscription(id);
        if (gone) deps.changed?.();
        return gone;
      } catch (error) {
        // Still there: the next scan finds it again.
        removed.delete(id);
        throw error;
      }
    },
    async start() {
      stopped = false;
      await refresh();
      heartbeat = setInterval(
        guarded(log, "the event subscriptions' lease", () => claim()),
        SUBSCRIPTIONS_LEASE_MS / 3,
      );
      heartbeat.unref();
      scanTimer = setInterval(
        guarded(log, "the event subscriptions' scan", () => scan()),
        settings.scanIntervalMs,
      );
      scanTimer.unref();
      await claim().catch((error: unknown) =>
        log.warn("taking the event subscriptions' lease failed; trying again soon", error),
      );
    },
    async stop() {
      stopped = true;
      clearInterval(heartbeat);
      clearInterval(scanTimer);
      for (const timer of timers.values()) clearTimeout(timer);
      timers.clear();
      for (const controllers of inFlight.values()) for (const controller of controllers) controller.abort();
      await Promise.allSettled([...running.values()].filter((work) => work !== null));
      if (leader) {
        leader = false;
        await store
          .releaseLease(SUBSCRIPTIONS_LEASE, nodeId)
          .catch((error: unknown) =>
            log.warn("the event subscriptions' lease was not released (it runs out)", error),
          );
      }
    },
    changedElsewhere() {
      if (stopped || !leader) return;
      // A removal abandons its deliveries in flight here; a new one is delivered from now on.
      scan().catch((error: unknown) => log.warn("reading the event subscriptions again failed", error));
    },
    wake(channelId) {
      if (stopped || !leader) return;
      // Deferred: the caller (the event stream) goes on at once, whatever happens here.
      queueMicrotask(() => {
        const name = channels.get(channelId)?.name;
        for (const subscription of subs.values()) {
          if (name === undefined || follows(subscription, name)) poke(subscription.id, channelId);
        }
      });
    },
  };
}
