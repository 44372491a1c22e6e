// Reading room history as the bot: /context for pagination tokens, /messages for pages. Used for
// backfill (through the Matrix port) and for filling gaps at start-up.
import type { MatrixClient } from "@vector-im/matrix-bot-sdk";
import { z } from "zod";
import { UpstreamRejectedError } from "../domain/ports/matrix.ts";
import type { ChannelRow, Store } from "../domain/ports/store.ts";
import type { Logger } from "../logging.ts";
import type { MatrixEventId, RoomId } from "../protocol/ids.ts";
import { upstream } from "./errors.ts";
import type { Inbox } from "./inbox.ts";

const contextSchema = z.object({ start: z.string(), end: z.string() });
const messagesSchema = z.object({
  chunk: z.array(z.unknown()),
  end: z.string().optional(),
});

export async function eventContext(client: MatrixClient, roomId: RoomId, eventId: MatrixEventId) {
  const response = await upstream(() =>
    client.doRequest(
      "GET",
      `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/context/${encodeURIComponent(eventId)}`,
      { limit: 0 },
    ),
  );
  return contextSchema.parse(response);
}

export async function roomMessagesRaw(
  client: MatrixClient,
  roomId: RoomId,
  from: string | null,
  direction: "b" | "f",
  limit: number,
): Promise<{ raw: unknown[]; next: string | null }> {
  const response = await upstream(() =>
    client.doRequest("GET", `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/messages`, {
      dir: direction,
      limit,
      ...(from === null ? {} : { from }),
    }),
  );
  const page = messagesSchema.parse(response);
  return { raw: page.chunk, next: page.chunk.length === 0 ? null : (page.end ?? null) };
}

/** Pages read back per channel at most, so start-up cannot hang on a huge room. */
const GAP_PAGES = 10;
const GAP_PAGE_SIZE = 100;

const idOf = (raw: unknown) => (raw as { event_id?: unknown } | null)?.event_id;

/**
 * Synapse can lose appservice transactions across its own restarts (synapse#11637). At start-up,
 * read each channel's room backwards from its newest event until reaching events we already know
 * (in the inbox or the log), and put everything newer into the inbox, oldest first: known events
 * are ignored there by event id, missing ones are processed. Reading back rather than forward
 * from our newest event also catches a lost event older than one that did arrive.
 */
/** The first reader the room lets in (403 means not in the room: the next one). */
async function firstThatMayRead<T>(
  clients: readonly MatrixClient[],
  read: (client: MatrixClient) => Promise<T>,
): Promise<T> {
  let last: unknown = new Error("nobody can read this room");
  for (const client of clients) {
    try {
      return await read(client);
    } catch (error) {
      if (!(error instanceof UpstreamRejectedError && error.status === 403)) throw error;
      last = error;
    }
  }
  throw last;
}

export async function fillGaps(
  /** Who may read the room, to try in turn: the bot, then (rooms it is not in) members' puppets. */
  clientsFor: (channel: ChannelRow) => Promise<MatrixClient[]>,
  store: Store,
  inbox: Inbox,
  log: Logger,
): Promise<number> {
  let recorded = 0;
  for (const channel of await store.allChannels()) {
    if (!(await store.newestEvent(channel.id))) continue;
    const clients = await clientsFor(channel);
    try {
      const unseen: unknown[] = [];
      let token: string | null = null;
      for (let page = 0; page < GAP_PAGES; page++) {
        const result = await firstThatMayRead(clients, (client) =>
          roomMessagesRaw(client, channel.roomId, token, "b", GAP_PAGE_SIZE),
        );
        let known = -1;
        for (const [index, raw] of result.raw.entries()) {
          const id = idOf(raw);
          if (typeof id === "string" && (await store.isKnownEvent(id))) {
            known = index;
            break;
          }
        }
        unseen.push(...(known === -1 ? result.raw : result.raw.slice(0, known)));
        if (known !== -1 || result.next === null) break;
        token = result.next;
      }
      recorded += await inbox.record(unseen.reverse());
    } catch (error) {
      log.warn(
        `gap fill for ${channel.name} failed; events missing there arrive when Synapse delivers them`,
        error,
      );
    }
  }
  if (recorded > 0) {
    log.info(`gap fill found ${recorded} events Synapse had not delivered`);
    await inbox.drain();
  }
  return recorded;
}
