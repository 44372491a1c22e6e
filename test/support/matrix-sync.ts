// Raw /sync of an ordinary Matrix user, for what matrix-bot-sdk does not surface: the ephemeral
// events (typing, receipts) of a room.
export interface EphemeralEvent {
  readonly type: string;
  readonly content: Record<string, unknown>;
}

interface SyncBody {
  next_batch: string;
  rooms?: { join?: Record<string, { ephemeral?: { events?: EphemeralEvent[] } }> };
}

export const accessTokenOf = (client: unknown): string => (client as { accessToken: string }).accessToken;

async function sync(
  homeserverUrl: string,
  accessToken: string,
  since: string | undefined,
  timeoutMs: number,
) {
  const query = new URLSearchParams({ timeout: String(timeoutMs), ...(since ? { since } : {}) });
  const response = await fetch(`${homeserverUrl}/_matrix/client/v3/sync?${query}`, {
    headers: { authorization: `Bearer ${accessToken}` },
  });
  return (await response.json()) as SyncBody;
}

/** The room's ephemeral events in a full (initial) sync: current receipts, for example. */
export async function roomEphemeral(
  homeserverUrl: string,
  accessToken: string,
  roomId: string,
): Promise<EphemeralEvent[]> {
  return (
    (await sync(homeserverUrl, accessToken, undefined, 0)).rooms?.join?.[roomId]?.ephemeral?.events ?? []
  );
}

/** Follows /sync from now on, collecting a room's ephemeral events (typing arrives only this way). */
export async function followEphemeral(homeserverUrl: string, accessToken: string, roomId: string) {
  let since = (await sync(homeserverUrl, accessToken, undefined, 0)).next_batch;
  const seen: EphemeralEvent[] = [];
  return {
    seen,
    async waitFor(
      predicate: (event: EphemeralEvent) => boolean,
      timeoutMs = 10_000,
    ): Promise<EphemeralEvent> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = seen.find(predicate);
        if (found) return found;
        if (Date.now() > deadline)
          throw new Error(`no matching ephemeral event in ${roomId}: ${JSON.stringify(seen)}`);
        const body = await sync(homeserverUrl, accessToken, since, 1_000);
        since = body.next_batch;
        seen.push(...(body.rooms?.join?.[roomId]?.ephemeral?.events ?? []));
      }
    },
  };
}
