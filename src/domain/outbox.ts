// The outbox: how native actions reach Matrix after they were logged, answered and fanned out.
// Per channel in log order, one entry in flight per room, retried with back-off for as long as it
// takes (honouring the homeserver's 429), each entry posted at the time it was said (`ts`), under
// a txnId and a marker of its own: a retry posts once, and the echo is known as ours. An entry
// the homeserver refuses for good is withdrawn natively (the sender is told with
// chat.send.failed); nothing that can never succeed is retried for ever.
import type { Logger } from "../logging.ts";
import { ProtocolError } from "../protocol/errors.ts";
import type { MessageContent, Profile } from "../protocol/events.ts";
import { pushFrame } from "../protocol/frames.ts";
import { asEventSeq, type MatrixEventId, type UserId } from "../protocol/ids.ts";
import { guarded } from "../shared/guard.ts";
import { withPendingLevels } from "./moderation/power-level-changes.ts";
import type { Naming } from "./naming.ts";
import type { FanOut } from "./ports/fanout.ts";
import {
  type MatrixPort,
  type Mirroring,
  type OutgoingMessage,
  UpstreamRateLimitedError,
  UpstreamRejectedError,
  UpstreamUnavailableError,
} from "./ports/matrix.ts";
import type { ChannelRow, MemberRow, OutboxEntry, OutboxKind, Store } from "./ports/store.ts";

type PostedContent = Exclude<MessageContent, { type: "deleted" }>;

/** What each kind carries (stored as JSON); references to other events are by their seq. */
export type OutboxPayload = {
  message: { content: PostedContent; replyTo?: number | undefined; mentions: UserId[] };
  /** `previous`: the content a withdrawal restores. */
  edit: { content: PostedContent; original: number; mentions: UserId[]; previous: MessageContent };
  delete: { original: number; previous: MessageContent };
  react: { target: number; key: string };
  /** The reaction's Matrix event, or (not mirrored yet when taken back) its outbox entry. */
  unreact: { target: number; key: string; reactionEventId: MatrixEventId | null; reactEntry: number | null };
  join: { profile: Profile; invite: boolean };
  leave: { profile: Profile };
  /** A kick, ban or unban; `by` is the native user who did it (the bot acts for admins). */
  membership: {
    target: UserId;
    membership: "leave" | "ban";
    reason?: string | undefined;
    by: UserId;
    previous: MemberRow["membership"] | null;
    profile: Profile;
  };
  power_level: { userId: UserId; level: number | null };
  /** A notice from the bridge bot that makes a native moderation visible in Matrix clients. */
  notice: { body: string };
  /** A state event from the bridge bot (Parley's own, documented in docs/protocol.md). */
  room_state: { type: string; content: Record<string, unknown> };
  /** A read receipt on an event that had not reached Matrix when it was read. */
  receipt: { target: number };
};

export interface NewMirror<K extends OutboxKind = OutboxKind> {
  readonly kind: K;
  /** The puppet that acts; null for the bridge bot. */
  readonly actor: UserId | null;
  readonly payload: OutboxPayload[K];
}

/** How a refused entry is undone natively; the domain modules that log entries provide it. */
export type Withdraw = (channel: ChannelRow, entry: OutboxEntry, why: ProtocolError) => Promise<void>;

export interface Outbox {
  /** Queues the mirror of a native action. Call inside the store transaction that logs it. */
  enqueue(channelId: number, seq: number | null, mirror: NewMirror, at: number): Promise<number>;
  /** After the commit: makes sure the channel's queue is being worked on. */
  wake(channelId: number): void;
  /** Another node queued entries here and could not drain them (this node holds the lease). */
  wakeFromOtherNode(channelId: number): void;
  /**
   * An event from the homeserver carrying `marker`: if it is the echo of one of this installation's
   * entries, the entry is done and its log entry knows its Matrix id; true means it was ours, so
   * it is logged already: log nothing. Markers are visible in rooms: one counts only when sent by
   * the puppet (or the bot) the entry was for, which nobody but Parley can send as.
   */
  acknowledgeEcho(marker: string, matrixEventId: MatrixEventId, sender: UserId): Promise<boolean>;
  /** Whether an event with `marker` sent by `sender` was posted by this installation's outbox. */
  ownsMarker(marker: string | null, sender: UserId): boolean;
  /** Works on every channel with pending entries (at start-up, after a crash). */
  start(): Promise<void>;
  /** Takes nothing new; resolves once the calls in flight have been answered and recorded. */
  stop(): Promise<void>;
  stats(): Promise<{ pending: number; oldestAgeMs: number | null }>;
}

export interface OutboxDeps {
  readonly store: Store;
  readonly matrix: MatrixPort;
  readonly fanout: FanOut;
  readonly naming: Naming;
  /** Registers a puppet and brings its display name up to date before it first acts. */
  readonly preparePuppet: (userId: UserId) => Promise<void>;
  /** A native user's profile now. */
  readonly profileOf: (userId: UserId) => Promise<Profile | undefined>;
  /** Undoes a refused entry natively, by kind. */
  readonly withdraw: Withdraw;
  /** Homeserver calls the outbox has in flight at once, over all channels. */
  readonly concurrency: number;
  /** Waits after the 1st, 2nd, ... failed attempt; the last repeats. */
  readonly retryDelaysMs: readonly number[];
  /** This node, as the holder of channel leases: one node at a time drains a channel. */
  readonly nodeId: string;
  /** Tells the other nodes a channel has new entries (its drainer may be one of them). */
  readonly queued?: (channelId: number) => void;
  readonly log: Logger;
}

/** Unexpected failures (not the homeserver's answers) are tried this often, then given up. */
const MAX_UNEXPECTED_ATTEMPTS = 5;
/** Synapse remembers an appservice txnId about 30 minutes: older attempts are looked up first. */
const TXN_MEMORY_MS = 25 * 60_000;
/** How far back in a room to look for an entry that may have landed. */
const LOOK_BACK_EVENTS = 200;
const STATS_EVERY_MS = 30_000;
/** A channel's lease lasts this long unless renewed: a drainer that died is replaced after it. */
export const OUTBOX_LEASE_MS = 15_000;
/** How often every node looks for channels with entries that nobody drains. */
const SCAN_EVERY_MS = 5_000;

type Outcome =
  | { readonly kind: "done"; readonly matrixEventId: MatrixEventId | null }
  | {
      readonly kind: "retry";
      readonly error: string;
      readonly afterMs: number;
      /** The homeserver could not be reached (rather than asking to wait, or failing oddly). */
      readonly unreachable?: boolean;
    }
  | { readonly kind: "refused"; readonly error: ProtocolError };

const markerPrefix = (instance: string) => `p${instance}.`;

export function createOutbox(deps: OutboxDeps): Outbox {
  const { store, matrix, fanout, naming, preparePuppet, profileOf, withdraw, log } = deps;
  const instance = store.instanceId;
  const prefix = markerPrefix(instance);
  /** Channels whose last attempt found the homeserver unreachable. */
  const waitingForHomeserver = new Set<number>();
  /** Channels whose next entry goes without waiting out its back-off (after a start, or a recovery). */
  const goNow = new Set<number>();
  /** Channels being worked on, with the work (null while it starts). */
  const running = new Map<number, Promise<void> | null>();
  /** Channels woken while being drained. */
  const rewake = new Set<number>();
  /** Channels woken because another node said so: a failed lease then tells nobody. */
  const heardFromOtherNode = new Set<number>();
  let scanTimer: NodeJS.Timeout | undefined;
  const timers = new Map<number, NodeJS.Timeout>();
  let inFlight = 0;
  const waitingForSlot: Array<() => void> = [];
  let stopped = true;
  let statsTimer: NodeJS.Timeout | undefined;

  const mirroringOf = (entry: OutboxEntry): Mirroring => ({
    ts: entry.createdAt,
    marker: `${prefix}${entry.id}`,
    txnId: `parley.${instance}.${entry.id}`,
  });

  const eventIdAt = async (channelId: number, seq: number): Promise<MatrixEventId | null> =>
    (await store.eventBySeq(channelId, asEventSeq(seq)))?.matrixEventId ?? null;

  const slot = async (): Promise<() => void> => {
    if (inFlight >= deps.concurrency) await new Promise<void>((resolve) => waitingForSlot.push(resolve));
    else inFlight += 1;
    return () => {
      const next = waitingForSlot.shift();
      if (next) next();
      else inFlight -= 1;
    };
  };

  /** One homeserver call per kind; references to other events are resolved now, in order. */
  const post = async (channel: ChannelRow, entry: OutboxEntry): Promise<MatrixEventId | null> => {
    const mirroring = mirroringOf(entry);
    const actor = entry.actor;
    // The puppet exists, under the user's current name, before it acts.
    if (actor !== null && naming.isNativeUser(actor)) await preparePuppet(actor);
    const need = (who: UserId | null): UserId => {
      if (who === null) throw new Error(`outbox entry ${entry.id} (${entry.kind}) needs a puppet`);
      return who;
    };
    switch (entry.kind) {
      case "message": {
        const p = entry.payload as OutboxPayload["message"];
        const message: OutgoingMessage = {
          content: p.content,
          mentions: p.mentions,
          replyTo:
            p.replyTo === undefined ? undefined : ((await eventIdAt(channel.id, p.replyTo)) ?? undefined),
        };
        return matrix.sendMessage(channel.roomId, need(actor), message, mirroring);
      }
      case "edit": {
        const p = entry.payload as OutboxPayload["edit"];
        const original = await eventIdAt(channel.id, p.original);
        // The original never reached Matrix (it was withdrawn): there is nothing to edit there.
        if (original === null) return null;
        return matrix.sendMessage(
          channel.roomId,
          need(actor),
          { content: p.content, mentions: p.mentions, replaces: original },
          mirroring,
        );
      }
      case "delete": {
        const original = await eventIdAt(channel.id, (entry.payload as OutboxPayload["delete"]).original);
        if (original === null) return null;
        return matrix.redact(channel.roomId, need(actor), original, mirroring);
      }
      case "react": {
        const p = entry.payload as OutboxPayload["react"];
        const target = await eventIdAt(channel.id, p.target);
        if (target === null) return null;
        return matrix.react(channel.roomId, need(actor), target, p.key, mirroring);
      }
      case "unreact": {
        const p = entry.payload as OutboxPayload["unreact"];
        const reaction =
          p.reactionEventId ??
          (p.reactEntry === null ? null : (await store.outboxEntry(p.reactEntry))?.matrixEventId);
        if (!reaction) return null;
        return matrix.redact(channel.roomId, need(actor), reaction, mirroring);
      }
      case "join": {
        const p = entry.payload as OutboxPayload["join"];
        const userId = need(actor);
        // A join queued just before the channel was closed: the close removes them anyway.
        if (channel.closedAt != null) return null;
        // Invite-only rooms (direct and moderators' channels) need an invitation first: the bot's,
        // or a member's where the bot is not in the room. One nobody can give (a DM a Matrix user
        // invited them to: they hold the invitation already) is left to the join, which says
        // whether they may.
        // (The room's join rule as it is now: it may have turned invite-only since the join.)
        if (p.invite || channel.joinRule !== "public") {
          await matrix.invite(channel.roomId, userId).catch((error: unknown) => {
            if (!(error instanceof UpstreamRejectedError && error.status === 403)) throw error;
          });
        }
        // The profile as it is now: a name changed since the join counts.
        const profile = (await profileOf(userId)) ?? p.profile;
        const joined = await matrix.setMembership(
          channel.roomId,
          userId,
          userId,
          { membership: "join", profile },
          mirroring,
        );
        // Renamed while the join was on its way: the homeserver renamed the puppet's other rooms
        // but not this one, which it was not in yet.
        const now = (await profileOf(userId))?.display_name;
        if (now && now !== profile.display_name) {
          await matrix
            .setDisplayName(userId, now)
            .catch((error: unknown) => log.warn(`renaming ${userId} failed`, error));
        }
        return joined;
      }
      case "leave": {
        const userId = need(actor);
        return matrix.setMembership(channel.roomId, userId, userId, { membership: "leave" }, mirroring);
      }
      case "membership": {
        const p = entry.payload as OutboxPayload["membership"];
        try {
          return await matrix.setMembership(
            channel.roomId,
            actor,
            p.target,
            { membership: p.membership, reason: p.reason },
            mirroring,
          );
        } catch (error) {
          // Closing removes everyone; one whose join never reached the room is simply not there.
          if (channel.closedAt != null && error instanceof UpstreamRejectedError && error.status === 403)
            return null;
          throw error;
        }
      }
      case "notice": {
        const p = entry.payload as OutboxPayload["notice"];
        return matrix.sendMessage(
          channel.roomId,
          naming.botUserId,
          { content: { type: "notice", body: p.body }, mentions: [] },
          mirroring,
        );
      }
      case "room_state": {
        const p = entry.payload as OutboxPayload["room_state"];
        await matrix.setRoomState(channel.roomId, p.type, p.content);
        return null;
      }
      case "receipt": {
        const p = entry.payload as OutboxPayload["receipt"];
        const target = await eventIdAt(channel.id, p.target);
        if (target !== null) await matrix.sendReceipt(channel.roomId, need(actor), target);
        return null;
      }
      case "power_level": {
        const p = entry.payload as OutboxPayload["power_level"];
        // As the moderator's puppet where its level allows, so Matrix credits them; the bot
        // otherwise (an admin without a level there, or a room that changed meanwhile).
        let content: unknown;
        try {
          content = await matrix.setPowerLevel(channel.roomId, p.userId, p.level, actor);
        } catch (error) {
          if (actor === null || !(error instanceof UpstreamRejectedError) || error.status !== 403)
            throw error;
          content = await matrix.setPowerLevel(channel.roomId, p.userId, p.level, null);
        }
        // The homeserver's content is the truth from now on (someone may have changed it meanwhile).
        await store.setPowerLevels(channel.id, await withPendingLevels(store, channel.id, content));
        return null;
      }
    }
  };

  const classify = (entry: OutboxEntry, error: unknown): Outcome => {
    const delays = deps.retryDelaysMs;
    const backoff = delays[Math.min(entry.attempts, delays.length - 1)] ?? 60_000;
    if (error instanceof UpstreamRateLimitedError) {
      return { kind: "retry", error: error.message, afterMs: error.retryAfterMs };
    }
    if (error instanceof UpstreamUnavailableError)
      return { kind: "retry", error: error.message, afterMs: backoff, unreachable: true };
    if (error instanceof UpstreamRejectedError) {
      // Already there: the goal is reached.
      if (error.errcode === "M_DUPLICATE_ANNOTATION") return { kind: "done", matrixEventId: null };
      const code =
        error.status === 404 || error.errcode === "M_NOT_FOUND" ? "chat.unknown_event" : "chat.denied";
      return {
        kind: "refused",
        error: new ProtocolError(code, `The homeserver refused it: ${error.message}`),
      };
    }
    // Not an answer of the homeserver: a bug, or something odd. A few tries, then give up.
    log.error(`outbox entry ${entry.id} (${entry.kind}) failed unexpectedly`, error);
    if (entry.attempts + 1 >= MAX_UNEXPECTED_ATTEMPTS) {
      return {
        kind: "refused",
        error: new ProtocolError("server.fatal", "It could not be mirrored to Matrix."),
      };
    }
    return { kind: "retry", error: error instanceof Error ? error.message : String(error), afterMs: backoff };
  };

  const attempt = async (channel: ChannelRow, entry: OutboxEntry): Promise<Outcome> => {
    try {
      // A first attempt long ago may have landed although its answer was lost, and Synapse has
      // forgotten its txnId by now: look for the entry's marker in the room before posting again.
      if (
        entry.attempts > 0 &&
        entry.firstAttemptAt !== null &&
        Date.now() - entry.firstAttemptAt > TXN_MEMORY_MS
      ) {
        const found = await matrix.findMarked(channel.roomId, mirroringOf(entry).marker, LOOK_BACK_EVENTS);
        if (found) return { kind: "done", matrixEventId: found };
      }
      return { kind: "done", matrixEventId: await post(channel, entry) };
    } catch (error) {
      return classify(entry, error);
    }
  };

  const settle = async (channel: ChannelRow, entry: OutboxEntry, outcome: Outcome) => {
    const now = Date.now();
    if (outcome.kind === "retry") {
      await store.recordOutboxAttempt(entry.id, now, outcome.error, now + outcome.afterMs);
      if (outcome.unreachable) waitingForHomeserver.add(channel.id);
      return;
    }
    // The homeserver answers: channels that were waiting out a back-off for it go now.
    if (waitingForHomeserver.size > 0) {
      const waiting = [...waitingForHomeserver];
      waitingForHomeserver.clear();
      for (const channelId of waiting) {
        if (channelId === channel.id) continue;
        goNow.add(channelId);
        wake(channelId);
      }
    }
    if (outcome.kind === "done") {
      await store.transaction(async () => {
        await store.finishOutbox(entry.id, "done", outcome.matrixEventId, null, now);
        if (outcome.matrixEventId !== null) await recordMatrixId(entry, outcome.matrixEventId);
      });
      return;
    }
    log.warn(`outbox entry ${entry.id} (${entry.kind}) in ${channel.name} refused: ${outcome.error.message}`);
    try {
      // One transaction: the entry is refused exactly when its native effects are undone.
      await store.transaction(async () => {
        await store.finishOutbox(
          entry.id,
          "refused",
          null,
          `${outcome.error.code}: ${outcome.error.message}`,
          now,
        );
        await withdraw(channel, entry, outcome.error);
      });
    } catch (error) {
      log.error(`withdrawing outbox entry ${entry.id} failed`, error);
      // Refused all the same: retrying a refusal would only be refused again.
      await store.finishOutbox(
        entry.id,
        "refused",
        null,
        `${outcome.error.code}: ${outcome.error.message}`,
        now,
      );
    }
    // Whoever asked for it hears why it did not happen (the bot acts for admins).
    const requester =
      entry.kind === "membership" ? (entry.payload as OutboxPayload["membership"]).by : entry.actor;
    if (requester !== null && entry.seq !== null) {
      fanout.sendToUser(
        requester,
        pushFrame("chat.send.failed", {
          channel: channel.name,
          event_id: entry.seq,
          code: outcome.error.code,
          message: outcome.error.message,
        }),
      );
    }
  };

  /** The log entry (and a native reaction) learn the Matrix event they became. */
  const recordMatrixId = async (entry: OutboxEntry, matrixEventId: MatrixEventId) => {
    if (entry.seq !== null) await store.setEventMatrixId(entry.channelId, entry.seq, matrixEventId);
    if (entry.kind === "react") await store.setReactionMatrixId(entry.id, matrixEventId);
  };

  const schedule = (channelId: number, at: number) => {
    clearTimeout(timers.get(channelId));
    timers.set(
      channelId,
      setTimeout(
        guarded(log, "the outbox", () => run(channelId)),
        Math.max(0, at - Date.now()),
      ),
    );
  };

  /** Works through one channel's queue, one entry at a time, until it is empty or must wait. */
  const run = (channelId: number): Promise<void> => {
    if (stopped) return Promise.resolve();
    if (running.has(channelId)) {
      // The drain may be past its last look at the queue: it looks again when it ends.
      rewake.add(channelId);
      return Promise.resolve();
    }
    running.set(channelId, null);
    const work = drain(channelId);
    // A drain that found nothing to do has already taken itself out.
    if (running.has(channelId)) running.set(channelId, work);
    return work;
  };

  const drain = async (channelId: number): Promise<void> => {
    clearTimeout(timers.get(channelId));
    timers.delete(channelId);
    let skipWait = goNow.delete(channelId);
    const fromOtherNode = heardFromOtherNode.delete(channelId);
    const lease = `outbox:${channelId}`;
    let leased = false;
    let lost = false;
    let heartbeat: NodeJS.Timeout | undefined;
    try {
      leased = await store.acquireLease(lease, deps.nodeId, OUTBOX_LEASE_MS, Date.now());
      if (!leased) {
        // Another node drains this channel now: tell it there is more (unless it told us), once a
        // second at most. If it dies, its lease runs out and a scan here takes over.
        if (!fromOtherNode) tellOthers(channelId);
        return;
      }
      // Renewed all along, also while one slow attempt waits for the homeserver.
      heartbeat = setInterval(() => {
        store.acquireLease(lease, deps.nodeId, OUTBOX_LEASE_MS, Date.now()).then(
          (ok) => {
            if (!ok) lost = true;
          },
          (error: unknown) => log.warn(`renewing the outbox lease of channel ${channelId} failed`, error),
        );
      }, OUTBOX_LEASE_MS / 3);
      heartbeat.unref();
      for (;;) {
        if (stopped || lost) return;
        const entry = await store.nextOutboxEntry(channelId);
        if (!entry) return;
        if (entry.nextAttemptAt > Date.now() && !skipWait) {
          schedule(channelId, entry.nextAttemptAt);
          return;
        }
        const channel = await store.channelById(channelId);
        if (!channel) {
          await store.finishOutbox(entry.id, "refused", null, "no such channel", Date.now());
          continue;
        }
        skipWait = false;
        const release = await slot();
        let outcome: Outcome;
        try {
          outcome = await attempt(channel, entry);
        } finally {
          release();
        }
        await settle(channel, entry, outcome);
      }
    } catch (error) {
      // The store failed (a database restart, say): the entries wait, and this channel is tried again.
      log.warn(`the outbox of channel ${channelId} stopped on an error; trying again soon`, error);
      if (!stopped) schedule(channelId, Date.now() + (deps.retryDelaysMs[0] ?? 1_000));
    } finally {
      clearInterval(heartbeat);
      // Released before this drain counts as ended: a drain started after it takes the lease anew.
      if (leased) {
        await store.releaseLease(lease, deps.nodeId).catch((error: unknown) => {
          log.warn(`the outbox lease of channel ${channelId} was not released (it runs out)`, error);
        });
      }
      running.delete(channelId);
      if (rewake.delete(channelId) && leased) wake(channelId);
    }
  };

  /** When each channel's drainer elsewhere was last told about new entries. */
  const toldAt = new Map<number, number>();
  const tellOthers = (channelId: number) => {
    const now = Date.now();
    if (now - (toldAt.get(channelId) ?? 0) < 1_000) return;
    toldAt.set(channelId, now);
    if (toldAt.size > 10_000) toldAt.clear();
    deps.queued?.(channelId);
  };

  // Deferred: a caller inside a store transaction has committed by the time the work starts.
  const wake = (channelId: number) => {
    if (stopped) return;
    queueMicrotask(() => {
      run(channelId).catch((error: unknown) => log.error(`the outbox of channel ${channelId} failed`, error));
    });
  };

  const stats = async () => {
    const { pending, oldestCreatedAt } = await store.outboxStats();
    return { pending, oldestAgeMs: oldestCreatedAt === null ? null : Date.now() - oldestCreatedAt };
  };

  return {
    enqueue(channelId, seq, mirror, at) {
      return store.enqueueOutbox({
        channelId,
        seq,
        kind: mirror.kind,
        actor: mirror.actor,
        payload: mirror.payload,
        createdAt: at,
      });
    },
    wake,
    wakeFromOtherNode(channelId) {
      heardFromOtherNode.add(channelId);
      wake(channelId);
    },
    ownsMarker: (marker, sender) =>
      (marker?.startsWith(prefix) ?? false) && (naming.isNativeUser(sender) || sender === naming.botUserId),
    async acknowledgeEcho(marker, matrixEventId, sender) {
      if (!marker.startsWith(prefix)) return false;
      if (!naming.isNativeUser(sender) && sender !== naming.botUserId) return false;
      const entry = await store.outboxEntry(Number(marker.slice(prefix.length)));
      // Ours, but long done and pruned: logged back then.
      if (!entry) return true;
      if ((entry.actor ?? naming.botUserId) !== sender) return false;
      // The entry first, then the log: the same order as settle(), or two nodes (one settling, one
      // taking the echo) can deadlock on PostgreSQL.
      await store.transaction(async () => {
        if (entry.state === "pending")
          await store.finishOutbox(entry.id, "done", matrixEventId, null, Date.now());
        await recordMatrixId(entry, matrixEventId);
      });
      return true;
    },
    async start() {
      stopped = false;
      // A start is a good moment to try again: the homeserver may have come back meanwhile.
      for (const channelId of await store.outboxChannels()) {
        goNow.add(channelId);
        wake(channelId);
      }
      statsTimer = setInterval(
        guarded(log, "outbox statistics", async () => {
          const now = await stats();
          if (now.pending > 0) {
            log.info(
              `outbox: ${now.pending} entries waiting for the homeserver, the oldest for ${Math.round((now.oldestAgeMs ?? 0) / 1000)} s`,
            );
          }
        }),
        STATS_EVERY_MS,
      );
      statsTimer.unref();
      scanTimer = setInterval(
        guarded(log, "the outbox scan", async () => {
          for (const channelId of await store.outboxChannels()) {
            if (!running.has(channelId) && !timers.has(channelId)) wake(channelId);
          }
        }),
        SCAN_EVERY_MS,
      );
      scanTimer.unref();
    },
    async stop() {
      stopped = true;
      clearInterval(statsTimer);
      clearInterval(scanTimer);
      for (const timer of timers.values()) clearTimeout(timer);
      timers.clear();
      // Each waits for at most one homeserver call, which has its own timeout.
      await Promise.allSettled([...running.values()].filter((work) => work !== null));
    },
    stats,
  };
}
