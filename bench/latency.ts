// Latency: one message from user A until user B has it, sequentially, through
//   native: A's WebSocket chat.send -> Parley -> Synapse -> Parley -> B's WebSocket chat.event
//   matrix: A's PUT /send -> Synapse -> B's long-poll /sync
import { randomBytes } from "node:crypto";
import { registerMatrixUser } from "../test/support/synapse.ts";
import { matrixRequest, RoomSync } from "./matrix-sync.ts";
import { onCleanup, progress, type Stack } from "./stack.ts";

export const WARMUP = 20;
const DELIVERY_TIMEOUT_MS = 10_000;
const CHANNEL = "bench";

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

export async function nativeLatency(stack: Stack, n: number): Promise<number[]> {
  const a = await stack.login("bench_a", "Bench A");
  await a.ok("chat.join", { channel: CHANNEL });
  const b = await stack.login("bench_b", "Bench B");
  await b.ok("chat.join", { channel: CHANNEL });
  let nextRef = 1;

  return series("native", n, async (body) => {
    const ref = `s${nextRef++}`;
    let arrivedAt = 0;
    const delivered = b.waitForEvent(
      (event) => {
        const matches =
          event.event_type === "channel.message" && (event.content as { body?: unknown }).body === body;
        if (matches) arrivedAt = performance.now();
        return matches;
      },
      DELIVERY_TIMEOUT_MS,
      `the chat.event for "${body}" at client B`,
    );
    const replied = a.waitFor(
      (f) => (f[0] === "success" || f[0] === "error") && f[1] === ref,
      DELIVERY_TIMEOUT_MS,
      `the reply to ${ref}`,
    );
    // Both are awaited below; these only keep an early failure of one from being "unhandled".
    delivered.catch(() => {});
    replied.catch(() => {});
    const t0 = performance.now();
    a.send([
      "chat.send",
      ref,
      { channel: CHANNEL, event_type: "channel.message", content: { type: "text", body } },
    ]);
    const reply = await Promise.race([replied, delivered.then(() => replied)]);
    if (reply[0] === "error") throw new Error(`chat.send of "${body}" failed: ${JSON.stringify(reply[2])}`);
    await delivered;
    return arrivedAt - t0;
  });
}

export async function matrixLatency({ hsUrl }: Stack, n: number): Promise<number[]> {
  const password = randomBytes(16).toString("hex");
  const a = await registerMatrixUser(hsUrl, "bench_mx_a", password);
  const b = await registerMatrixUser(hsUrl, "bench_mx_b", password);
  const created = await matrixRequest(hsUrl, a.accessToken, "POST", "/_matrix/client/v3/createRoom", {
    preset: "public_chat",
    name: "bench",
  });
  const roomId = String(created.room_id);
  await matrixRequest(
    hsUrl,
    b.accessToken,
    "POST",
    `/_matrix/client/v3/join/${encodeURIComponent(roomId)}`,
    {},
  );
  const sync = await RoomSync.start(hsUrl, b.accessToken, roomId);
  onCleanup("stop /sync", () => sync.stop());
  const sendPath = `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/m.room.message/`;
  let txn = 0;

  return series("matrix", n, async (body) => {
    const delivered = sync.waitForBody(body, DELIVERY_TIMEOUT_MS);
    delivered.catch(() => {});
    const t0 = performance.now();
    const sent = matrixRequest(hsUrl, a.accessToken, "PUT", `${sendPath}bench${txn++}`, {
      msgtype: "m.text",
      body,
    });
    const [arrivedAt] = await Promise.all([delivered, sent]);
    return arrivedAt - t0;
  });
}
