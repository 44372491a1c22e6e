// A plain Matrix user looking at a channel's room from the Synapse side: joins it, and reads what
// Parley's outbox has mirrored there (with /messages, so nothing depends on a /sync loop).
import { randomBytes } from "node:crypto";
import { registerMatrixUser } from "../test/support/synapse.ts";
import { matrixRequest } from "./matrix-sync.ts";
import { sleep } from "./procs.ts";

export interface MatrixUser {
  readonly userId: string;
  readonly accessToken: string;
}

const MESSAGES_ONLY = encodeURIComponent(JSON.stringify({ types: ["m.room.message"] }));
const PAGE = 1_000;

export function newMatrixUser(hsUrl: string, name: string): Promise<MatrixUser> {
  return registerMatrixUser(hsUrl, name, randomBytes(16).toString("hex"));
}

export async function joinRoom(hsUrl: string, user: MatrixUser, roomId: string): Promise<void> {
  await matrixRequest(
    hsUrl,
    user.accessToken,
    "POST",
    `/_matrix/client/v3/join/${encodeURIComponent(roomId)}`,
    {},
  );
}

/** The Matrix room id of a channel, from its chat.join or chat.subscribe reply. */
export function roomIdOf(reply: Record<string, unknown>): string {
  const roomId = (reply.state as { room_id?: unknown } | undefined)?.room_id;
  if (typeof roomId !== "string")
    throw new Error(`no state.room_id in ${JSON.stringify(reply).slice(0, 200)}`);
  return roomId;
}

/** The bodies of the newest `limit` m.room.message events of the room, newest first. */
async function newestBodies(hsUrl: string, token: string, roomId: string, limit: number, from?: string) {
  const path =
    `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/messages?dir=b&limit=${limit}` +
    `&filter=${MESSAGES_ONLY}${from === undefined ? "" : `&from=${encodeURIComponent(from)}`}`;
  const page = await matrixRequest(hsUrl, token, "GET", path);
  const bodies = ((page.chunk ?? []) as Array<{ content?: { body?: unknown } }>)
    .map((event) => event.content?.body)
    .filter((body): body is string => typeof body === "string");
  return { bodies, end: typeof page.end === "string" ? page.end : undefined };
}

/** Every m.room.message body in the room, oldest first (pages back until the start). */
export async function roomBodies(hsUrl: string, user: MatrixUser, roomId: string): Promise<string[]> {
  const all: string[] = [];
  let from: string | undefined;
  for (;;) {
    const page = await newestBodies(hsUrl, user.accessToken, roomId, PAGE, from);
    all.push(...page.bodies);
    if (page.bodies.length === 0 || page.end === undefined) return all.reverse();
    from = page.end;
  }
}

/**
 * Polls the room until `body` is among its newest messages: Parley's outbox has mirrored
 * everything up to it. Returns the ms it took; throws after `timeoutMs`.
 */
export async function waitMirrored(
  hsUrl: string,
  user: MatrixUser,
  roomId: string,
  body: string,
  timeoutMs: number,
): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < timeoutMs) {
    const { bodies } = await newestBodies(hsUrl, user.accessToken, roomId, 50);
    if (bodies.includes(body)) return performance.now() - started;
    await sleep(200);
  }
  throw new Error(`"${body}" did not reach the Matrix room ${roomId} within ${timeoutMs / 1000} s`);
}
