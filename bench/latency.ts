// Latency: one message from user A until user B has it, sequentially, through
//   native -> native: A's WebSocket chat.send -> Parley -> B's WebSocket chat.event (Synapse gets
//                     the message afterwards, through Parley's outbox)
//   matrix -> matrix: A's PUT /send -> Synapse -> B's long-poll /sync (a room Parley is not in)
//   native -> matrix: A's chat.send -> Parley's outbox -> Synapse -> a Matrix user's /sync
//   matrix -> native: a Matrix user's PUT /send into the channel's room -> Synapse -> Parley (an
//                     appservice transaction) -> B's WebSocket chat.event
import { randomBytes } from "node:crypto";
import type { TestClient } from "../test/support/client.ts";
import { registerMatrixUser } from "../test/support/synapse.ts";
import { joinRoom, type MatrixUser, newMatrixUser, roomIdOf, waitMirrored } from "./matrix-room.ts";
import { matrixRequest, RoomSync } from "./matrix-sync.ts";
import { progress, type Stack } from "./stack.ts";

export const WARMUP = 20;
const DELIVERY_TIMEOUT_MS = 10_000;
const CHANNEL = "bench";
/** The native series leaves its messages in the outbox; they reach Synapse within this. */
const DRAIN_TIMEOUT_MS = 120_000;

export interface LatencyResult {
  readonly native: number[];
  readonly matrix: number[];
  readonly nativeToMatrix: number[];
  readonly matrixToNative: number[];
  /** ms from the native series' end until its last message was in the Matrix room. */
  readonly drainMs: number;
}

/** Runs WARMUP uncounted then `n` counted round trips, one after the other; returns the counted ms. */
async function series(
  label: string,
  n: number,
  roundTrip: (body: string) => Promise<number>,
): Promise<number[]> {
  const run = randomBytes(4).toString("hex");
  const samples: number[] = [];
  for (let i = 0; i < WARMUP + n; i++) {
    const ms = await roundTrip(`${label} ${run} #${i}`);
    if (i >= WARMUP) samples.push(ms);
    const done = i + 1 - WARMUP;
    if (done > 0 && (done % 100 === 0 || done === n)) progress(`${label} ${done}/${n}`);
  }
  return samples;
}

/** Resolves with the performance.now() at which native client `b` got the message `body`. */
function nativeArrival(b: TestClient, body: string): Promise<number> {
  let arrivedAt = 0;
  const delivered = b
    .waitForEvent(
      (event) => {
        const matches =
          event.event_type === "channel.message" && (event.content as { body?: unknown }).body === body;
        if (matches) arrivedAt = performance.now();
        return matches;
      },
      DELIVERY_TIMEOUT_MS,
      `the chat.event for "${body}" at native client B`,
    )
    .then(() => arrivedAt);
  // Awaited by the caller; this only keeps an early failure from being "unhandled".
  delivered.catch(() => {});
  return delivered;
}

/** A sends chat.send; resolves with the reply (rejects on an error reply or none). */
function nativeSend(a: TestClient, ref: string, body: string): Promise<void> {
  const replied = a.waitFor(
    (f) => (f[0] === "success" || f[0] === "error") && f[1] === ref,
    DELIVERY_TIMEOUT_MS,
    `the reply to ${ref}`,
  );
  a.send([
    "chat.send",
    ref,
    { channel: CHANNEL, event_type: "channel.message", content: { type: "text", body } },
  ]);
  const ok = replied.then((reply) => {
    if (reply[0] === "error") throw new Error(`chat.send of "${body}" failed: ${JSON.stringify(reply[2])}`);
  });
  ok.catch(() => {});
  return ok;
}

/**
 * The four paths one after the other. After the native series, the outbox's backlog (every native
 * message, posted to Synapse afterwards) is let drain, so the other paths do not share Synapse
 * with it.
 */
export async function latencyBench(stack: Stack, n: number): Promise<LatencyResult> {
  const a = await stack.login("bench_a", "Bench A");
  const roomId = roomIdOf(await a.ok("chat.join", { channel: CHANNEL }));
  const b = await stack.login("bench_b", "Bench B");
  await b.ok("chat.join", { channel: CHANNEL });
  let ref = 1;
  let lastBody = "";
  const native = await series("native->native", n, async (body) => {
    lastBody = body;
    const delivered = nativeArrival(b, body);
    const t0 = performance.now();
    const sent = nativeSend(a, `s${ref++}`, body);
    const [arrivedAt] = await Promise.all([delivered, sent]);
    return arrivedAt - t0;
  });

  const observer = await newMatrixUser(stack.hsUrl, "bench_mx_c");
  await joinRoom(stack.hsUrl, observer, roomId);
  const drainMs = await waitMirrored(stack.hsUrl, observer, roomId, lastBody, DRAIN_TIMEOUT_MS);
  progress(`the outbox had mirrored the native series ${(drainMs / 1000).toFixed(1)} s after it ended`);

  const matrix = await matrixLatency(stack, n);
  const nativeToMatrix = await nativeToMatrixLatency(stack, n, a, observer, roomId);
  const matrixToNative = await series("matrix->native", n, async (body) => {
    const delivered = nativeArrival(b, body);
    const t0 = performance.now();
    await matrixSend(stack.hsUrl, observer, roomId, body);
    return (await delivered) - t0;
  });
  return { native, matrix, nativeToMatrix, matrixToNative, drainMs };
}

let txn = 0;

function matrixSend(hsUrl: string, user: { accessToken: string }, roomId: string, body: string) {
  const path = `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/m.room.message/bench${txn++}`;
  return matrixRequest(hsUrl, user.accessToken, "PUT", path, { msgtype: "m.text", body });
}

async function matrixLatency({ hsUrl }: Stack, n: number): Promise<number[]> {
  const password = randomBytes(16).toString("hex");
  const a = await registerMatrixUser(hsUrl, "bench_mx_a", password);
  const b = await registerMatrixUser(hsUrl, "bench_mx_b", password);
  const created = await matrixRequest(hsUrl, a.accessToken, "POST", "/_matrix/client/v3/createRoom", {
    preset: "public_chat",
    name: "bench",
  });
  const roomId = String(created.room_id);
  await joinRoom(hsUrl, b, roomId);
  const sync = await RoomSync.start(hsUrl, b.accessToken, roomId);
  try {
    return await series("matrix->matrix", n, async (body) => {
      const delivered = sync.waitForBody(body, DELIVERY_TIMEOUT_MS);
      delivered.catch(() => {});
      const t0 = performance.now();
      const [arrivedAt] = await Promise.all([delivered, matrixSend(hsUrl, a, roomId, body)]);
      return arrivedAt - t0;
    });
  } finally {
    // Its long-poll must not outlive the part (Synapse is frozen in the outage part).
    await sync.stop();
  }
}

/** Native A sends; `observer`, a Matrix user in the channel's room, has it in its /sync. */
async function nativeToMatrixLatency(
  { hsUrl }: Stack,
  n: number,
  a: TestClient,
  observer: MatrixUser,
  roomId: string,
): Promise<number[]> {
  const sync = await RoomSync.start(hsUrl, observer.accessToken, roomId);
  let ref = 1;
  try {
    return await series("native->matrix", n, async (body) => {
      const delivered = sync.waitForBody(body, DELIVERY_TIMEOUT_MS);
      delivered.catch(() => {});
      const t0 = performance.now();
      const [arrivedAt] = await Promise.all([delivered, nativeSend(a, `m${ref++}`, body)]);
      return arrivedAt - t0;
    });
  } finally {
    await sync.stop();
  }
}
