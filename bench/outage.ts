// Homeserver outage: a native publisher posts 10 messages a second to a channel that has one native
// subscriber and one Matrix user (long-polling /sync); 3 s in, Synapse is frozen with SIGSTOP for
// 30 s, then thawed with SIGCONT, and publishing goes on for 5 s more. Native delivery must not
// notice (Parley pushes before it asks the homeserver); Matrix must get every message once, late.
import WebSocket from "ws";
import { signToken } from "../src/auth/jwt.ts";
import { publishAtRate } from "./fanout.ts";
import { joinRoom, newMatrixUser, roomBodies, roomIdOf } from "./matrix-room.ts";
import { matrixRequest } from "./matrix-sync.ts";
import { sleep } from "./procs.ts";
import { onCleanup, progress, type Stack, withTimeout } from "./stack.ts";
import { type Summary, summarize } from "./stats.ts";

export const RATE = 10;
export const BEFORE_S = 3;
export const PAUSE_S = 30;
export const AFTER_S = 5;
const CHANNEL = "bench_outage";
/** How long Matrix may take to catch up after SIGCONT. */
const CATCH_UP_TIMEOUT_MS = 180_000;
const NATIVE_SETTLE_MS = 10_000;
const SYNC_POLL_S = 10;
/** Longer than the pause: a /sync caught in it hangs until Synapse thaws, then answers. */
const SYNC_REQUEST_LIMIT_MS = 120_000;

export interface OutageResult {
  readonly sent: number;
  /** Messages sent while Synapse was stopped. */
  readonly sentDuringPause: number;
  /** Native send -> subscriber's chat.event, in ms, for the messages sent during the pause. */
  readonly nativeDuringPause: Summary | undefined;
  readonly native: { readonly lost: number; readonly duplicated: number };
  /** ms from SIGCONT until the Matrix user's /sync had the first message sent during the pause. */
  readonly matrixFirstMs: number;
  /** ms from SIGCONT until the Matrix user's /sync had the last message sent during the pause. */
  readonly matrixCatchUpMs: number;
  /** ms from SIGCONT until the Matrix user's /sync had the very last message. */
  readonly matrixAllMs: number;
  readonly matrix: { readonly lost: number; readonly duplicated: number };
  /** chat.send replies that were not `success`, or missing. */
  readonly sendErrors: number;
}

const now = () => performance.timeOrigin + performance.now();
const body = (seq: number, sentAt: number) => `outage ${seq} ${sentAt}`;
const seqOf = (text: unknown) =>
  typeof text === "string" && text.startsWith("outage ") ? Number(text.split(" ")[1]) : -1;

/** The native subscriber: per sequence number, how often it arrived and the first arrival's latency. */
async function nativeSubscriber(stack: Stack, total: number) {
  const token = await signToken(stack.jwtSecret, { sub: "bench_os", name: "Bench Outage Subscriber" });
  const ws = new WebSocket(stack.gatewayUrl);
  onCleanup("close the outage subscriber", () => ws.close());
  const counts = new Uint16Array(total);
  const latency = new Float64Array(total);
  let handshake: ((frame: unknown[]) => void) | undefined;
  ws.on("message", (data) => {
    const frame = JSON.parse(String(data)) as unknown[];
    if (handshake) {
      handshake(frame);
      return;
    }
    if (frame[0] !== "chat.event") return;
    const text = (frame[1] as { content?: { body?: unknown } }).content?.body;
    const seq = seqOf(text);
    if (seq < 0 || seq >= total) return;
    if (counts[seq] === 0) latency[seq] = now() - Number(String(text).split(" ")[2]);
    counts[seq] = (counts[seq] ?? 0) + 1;
  });
  const reply = (frame: unknown[]) =>
    withTimeout(
      new Promise<unknown[]>((resolve) => {
        handshake = resolve;
        ws.send(JSON.stringify(frame));
      }),
      10_000,
      `the reply to ${String(frame[0])}`,
    ).finally(() => {
      handshake = undefined;
    });
  await withTimeout(
    new Promise((resolve, reject) => {
      ws.once("open", resolve);
      ws.once("error", reject);
    }),
    10_000,
    "the outage subscriber to connect",
  );
  const auth = await reply(["authenticate", { token }]);
  if (auth[0] !== "authenticated") throw new Error(`authenticate: ${JSON.stringify(auth)}`);
  const sub = await reply(["chat.subscribe", 1, { channel: CHANNEL }]);
  if (sub[0] !== "success") throw new Error(`chat.subscribe: ${JSON.stringify(sub)}`);
  return { counts, latency };
}

/**
 * The Matrix user's view: a /sync loop that survives the freeze (a request caught in it waits for
 * the thaw; an error is retried), noting when each message body was first seen.
 */
function matrixWatcher(hsUrl: string, token: string, roomId: string) {
  const seen = new Map<string, number>();
  const abort = new AbortController();
  const filter = encodeURIComponent(
    JSON.stringify({
      presence: { types: [] },
      account_data: { types: [] },
      room: {
        rooms: [roomId],
        timeline: { types: ["m.room.message"], limit: 100 },
        state: { types: [] },
        ephemeral: { types: [] },
        account_data: { types: [] },
      },
    }),
  );
  let since = "";
  const loop = (async () => {
    while (!abort.signal.aborted) {
      const path = `/_matrix/client/v3/sync?timeout=${since ? SYNC_POLL_S * 1000 : 0}&filter=${filter}${
        since ? `&since=${encodeURIComponent(since)}` : ""
      }`;
      try {
        const signal = AbortSignal.any([abort.signal, AbortSignal.timeout(SYNC_REQUEST_LIMIT_MS)]);
        const response = await matrixRequest(hsUrl, token, "GET", path, undefined, signal);
        const arrivedAt = performance.now();
        since = String(response.next_batch);
        const rooms = response.rooms as
          | { join?: Record<string, { timeline?: { events?: unknown[] } }> }
          | undefined;
        for (const event of rooms?.join?.[roomId]?.timeline?.events ?? []) {
          const text = (event as { content?: { body?: unknown } }).content?.body;
          if (typeof text === "string" && !seen.has(text)) seen.set(text, arrivedAt);
        }
      } catch (error) {
        if (abort.signal.aborted) return;
        progress(`outage: the Matrix user's /sync failed (${(error as Error).message}); retrying`);
        await sleep(1_000);
      }
    }
  })();
  const stop = async () => {
    abort.abort();
    await loop;
  };
  onCleanup("stop the outage /sync", stop);
  /** When `text` was first seen (performance.now()); waits for it up to `timeoutMs`. */
  const seenAt = async (text: string, timeoutMs: number): Promise<number> => {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const at = seen.get(text);
      if (at !== undefined) return at;
      if (performance.now() > deadline)
        throw new Error(`the Matrix user's /sync did not see "${text}" within ${timeoutMs / 1000} s`);
      await sleep(50);
    }
  };
  return { seenAt, stop };
}

/** SIGSTOP / SIGCONT to Synapse's process group (it was started detached, as its own group). */
function signalSynapse(pid: number, signal: "SIGSTOP" | "SIGCONT"): void {
  try {
    process.kill(-pid, signal);
  } catch {
    process.kill(pid, signal);
  }
}

export async function outageBench(stack: Stack): Promise<OutageResult> {
  const total = (BEFORE_S + PAUSE_S + AFTER_S) * RATE;
  const publisher = await stack.login("bench_op", "Bench Outage Publisher");
  const roomId = roomIdOf(await publisher.ok("chat.join", { channel: CHANNEL }));
  const matrixUser = await newMatrixUser(stack.hsUrl, "bench_mx_outage");
  await joinRoom(stack.hsUrl, matrixUser, roomId);
  const subscriber = await nativeSubscriber(stack, total);
  const watcher = matrixWatcher(stack.hsUrl, matrixUser.accessToken, roomId);
  // One message through both paths first: the Matrix user is in the room and its /sync is running.
  await publisher.say(CHANNEL, "outage warm-up");
  await watcher.seenAt("outage warm-up", 60_000);

  const bodies: string[] = [];
  const sentAt: number[] = [];
  let pausedAt = 0;
  let resumedAt = 0;
  let resumedAtMono = 0;
  const pid = stack.synapsePid;
  onCleanup("thaw Synapse", () => signalSynapse(pid, "SIGCONT"));
  const freeze = (async () => {
    await sleep(BEFORE_S * 1000);
    progress(`outage: SIGSTOP Synapse (pid ${pid}) for ${PAUSE_S} s`);
    pausedAt = now();
    signalSynapse(pid, "SIGSTOP");
    await sleep(PAUSE_S * 1000);
    signalSynapse(pid, "SIGCONT");
    resumedAt = now();
    resumedAtMono = performance.now();
    progress("outage: SIGCONT Synapse");
  })();
  await publishAtRate(total, RATE, (seq, at) => {
    bodies[seq] = body(seq, at);
    sentAt[seq] = at;
    publisher.send([
      "chat.send",
      `o${seq}`,
      { channel: CHANNEL, event_type: "channel.message", content: { type: "text", body: bodies[seq] } },
    ]);
  });
  await freeze;

  const duringPause = sentAt.flatMap((at, seq) => (at >= pausedAt && at < resumedAt ? [seq] : []));
  const [firstPaused, lastPaused] = [duringPause[0], duringPause.at(-1)];
  if (firstPaused === undefined || lastPaused === undefined)
    throw new Error("no message was sent while Synapse was stopped");
  const first = (await watcher.seenAt(bodies[firstPaused] as string, CATCH_UP_TIMEOUT_MS)) - resumedAtMono;
  const catchUp = (await watcher.seenAt(bodies[lastPaused] as string, CATCH_UP_TIMEOUT_MS)) - resumedAtMono;
  const all = (await watcher.seenAt(bodies[total - 1] as string, CATCH_UP_TIMEOUT_MS)) - resumedAtMono;
  progress(`outage: Matrix had the pause's last message ${(catchUp / 1000).toFixed(1)} s after SIGCONT`);
  await watcher.stop();
  // Whatever is still on its way to the native subscriber (nothing, if Parley is right).
  const deadline = performance.now() + NATIVE_SETTLE_MS;
  while (subscriber.counts.includes(0) && performance.now() < deadline) await sleep(100);

  const inRoom = (await roomBodies(stack.hsUrl, matrixUser, roomId)).map(seqOf).filter((s) => s >= 0);
  const roomCounts = new Uint16Array(total);
  for (const seq of inRoom) if (seq < total) roomCounts[seq] = (roomCounts[seq] ?? 0) + 1;
  const tally = (counts: Uint16Array) => ({
    lost: counts.filter((c) => c === 0).length,
    duplicated: counts.reduce((sum, c) => sum + Math.max(0, c - 1), 0),
  });
  const pausedLatencies = duringPause.flatMap((seq) =>
    subscriber.counts[seq] === 0 ? [] : [subscriber.latency[seq] as number],
  );
  const replies = publisher.received.filter((f) => f[0] === "success" && /^o\d+$/.test(String(f[1])));
  return {
    sent: total,
    sentDuringPause: duringPause.length,
    nativeDuringPause: pausedLatencies.length > 0 ? summarize(pausedLatencies) : undefined,
    native: tally(subscriber.counts),
    matrixFirstMs: first,
    matrixCatchUpMs: catchUp,
    matrixAllMs: all,
    matrix: tally(roomCounts),
    sendErrors: total - replies.length,
  };
}
