// An ordinary Matrix user, as Element would be: registered through the client-server API on the
// open-registration homeserver, syncing with matrix-bot-sdk's MatrixClient.
import { MatrixClient } from "@vector-im/matrix-bot-sdk";
import { registerMatrixUser } from "./synapse.ts";

export interface RoomEventRecord {
  readonly roomId: string;
  readonly event: {
    event_id: string;
    type: string;
    sender: string;
    state_key?: string;
    origin_server_ts?: number;
    redacts?: string;
    content: Record<string, unknown>;
  };
}

export class MatrixUser {
  readonly client: MatrixClient;
  readonly userId: string;
  readonly events: RoomEventRecord[] = [];
  #waiters: Array<{ predicate: (r: RoomEventRecord) => boolean; resolve: (r: RoomEventRecord) => void }> = [];

  private constructor(client: MatrixClient, userId: string) {
    this.client = client;
    this.userId = userId;
    const record = (roomId: string, event: RoomEventRecord["event"]) => {
      const record = { roomId, event };
      this.events.push(record);
      this.#waiters = this.#waiters.filter((w) => {
        if (!w.predicate(record)) return true;
        w.resolve(record);
        return false;
      });
    };
    client.on("room.event", record);
    // An invitation arrives as the room's invite state, not as a timeline event.
    client.on("room.invite", (roomId: string, event: RoomEventRecord["event"]) => record(roomId, event));
  }

  /** The content of the invitation into `roomId` (is_direct and the like). */
  async waitForInvite(roomId: string): Promise<Record<string, unknown>> {
    const invite = await this.waitForEvent(
      (r) =>
        r.roomId === roomId &&
        r.event.type === "m.room.member" &&
        r.event.state_key === this.userId &&
        r.event.content.membership === "invite",
      15_000,
      "an invitation",
    );
    return invite.event.content;
  }

  static async register(homeserverUrl: string, username: string, displayName: string): Promise<MatrixUser> {
    const { userId, accessToken } = await registerMatrixUser(
      homeserverUrl,
      username,
      "a-long-test-password-1",
    );
    const client = new MatrixClient(homeserverUrl, accessToken);
    await client.setDisplayName(displayName);
    const user = new MatrixUser(client, userId);
    await client.start();
    return user;
  }

  join(roomIdOrAlias: string): Promise<string> {
    return this.client.joinRoom(roomIdOrAlias);
  }

  sendText(roomId: string, body: string): Promise<string> {
    return this.client.sendText(roomId, body);
  }

  leave(roomId: string): Promise<void> {
    return this.client.leaveRoom(roomId);
  }

  waitForEvent(predicate: (r: RoomEventRecord) => boolean, timeoutMs = 15_000, description = "a room event") {
    const seen = this.events.find(predicate);
    if (seen) return Promise.resolve(seen);
    return new Promise<RoomEventRecord>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`Matrix user timed out waiting for ${description}`)),
        timeoutMs,
      );
      this.#waiters.push({
        predicate,
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
      });
    });
  }

  /** The bodies of a room's messages as the homeserver has them now (not as synced), oldest first. */
  async roomBodies(roomId: string, limit = 1000): Promise<string[]> {
    const page = (await this.client.doRequest(
      "GET",
      `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/messages`,
      { dir: "b", limit },
    )) as { chunk: Array<{ type: string; content: { body?: unknown } }> };
    return page.chunk
      .filter((e) => e.type === "m.room.message" && typeof e.content.body === "string")
      .map((e) => String(e.content.body))
      .reverse();
  }

  messages(roomId: string): string[] {
    return this.events
      .filter((r) => r.roomId === roomId && r.event.type === "m.room.message")
      .map((r) => String(r.event.content.body));
  }

  stop(): void {
    this.client.stop();
  }
}
