// The Matrix port implemented with matrix-bot-sdk intents: the bot creates rooms, puppets act as
// native users (`?user_id=` impersonation with the appservice token).
import type { Appservice, MatrixClient } from "@vector-im/matrix-bot-sdk";
import type { MediaUrls } from "../domain/media-urls.ts";
import { type MatrixPort, type Mirroring, UpstreamRejectedError } from "../domain/ports/matrix.ts";
import { asMatrixEventId, asRoomId, type MatrixEventId, type RoomId, type UserId } from "../protocol/ids.ts";
import { dict } from "../shared/dict.ts";
import { KeyedQueue } from "../shared/keyed-queue.ts";
import { isAliasTaken, isRejectedWith, upstream } from "./errors.ts";
import { eventContext, roomMessagesRaw } from "./history.ts";
import { MARKER_KEY, markerOf } from "./markers.ts";
import { downloadMedia } from "./media.ts";
import { buildMessageContent } from "./message-build.ts";
import { parseRoomEvent } from "./parse.ts";
import { roomCreationOptions } from "./rooms.ts";

/** Sends should fail fast when the homeserver hangs; a retry with the same txn_id is safe. */
const SEND_TIMEOUT_MS = 15_000;
/** Joining a room another node is still creating is tried this often, this far apart. */
const ADOPT_JOIN_ATTEMPTS = 20;
const ADOPT_JOIN_WAIT_MS = 250;

/** A lookup that may find nothing: 404 / M_NOT_FOUND becomes undefined. */
async function unlessNotFound<T>(lookup: () => Promise<T>): Promise<T | undefined> {
  try {
    return await lookup();
  } catch (error) {
    if (error instanceof UpstreamRejectedError && (error.status === 404 || error.errcode === "M_NOT_FOUND")) {
      return undefined;
    }
    throw error;
  }
}

const eventIdOf = (response: unknown): MatrixEventId => {
  const id = (response as { event_id?: unknown } | null)?.event_id;
  if (typeof id !== "string") throw new Error("homeserver response without event_id");
  return asMatrixEventId(id);
};

/**
 * Who can read a room the bot is not in (direct channels: the bot stays out, so Matrix clients
 * name them for the people in them): the native members' puppets, to try in turn.
 */
export type RoomReader = (roomId: RoomId) => Promise<UserId[]>;

export function createMatrixAdapter(
  appservice: Appservice,
  homeserver: {
    readonly url: string;
    readonly serverName: string;
    readonly accessToken: string;
    /** The appservice's own room list ("network") public channels are listed in. */
    readonly directoryNetwork: string;
  },
  media: MediaUrls,
  readerOf: RoomReader = async () => [],
): MatrixPort {
  const serverName = homeserver.serverName;
  const bot = appservice.botIntent;
  const clientOf = (userId: UserId) => appservice.getIntentForUserId(userId).underlyingClient;
  let botReady: Promise<unknown> | undefined;
  const ensureBot = () => {
    botReady ??= upstream(() => bot.ensureRegistered()).catch((error: unknown) => {
      botReady = undefined;
      throw error;
    });
    return botReady;
  };

  /** A mirrored native event: at its original time (`ts`), marked as Parley's own. */
  const send = (
    roomId: RoomId,
    userId: UserId,
    type: string,
    content: Record<string, unknown>,
    mirroring: Mirroring,
  ) =>
    upstream(async () =>
      eventIdOf(
        await clientOf(userId).doRequest(
          "PUT",
          `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/${encodeURIComponent(type)}/${encodeURIComponent(mirroring.txnId)}`,
          { ts: mirroring.ts },
          { ...content, [MARKER_KEY]: mirroring.marker },
          SEND_TIMEOUT_MS,
        ),
      ),
    );

  /** Reads (and invites) as the bot, or, where the bot is not in the room, as a member's puppet. */
  const asBotOrMember = async <T>(roomId: RoomId, work: (client: MatrixClient) => Promise<T>): Promise<T> => {
    try {
      return await upstream(() => work(bot.underlyingClient));
    } catch (error) {
      if (!(error instanceof UpstreamRejectedError && error.status === 403)) throw error;
      let last: unknown = error;
      // A member Parley thinks is in may not be yet (a join on its way): the next one, then.
      for (const member of await readerOf(roomId)) {
        try {
          return await upstream(() => work(clientOf(member)));
        } catch (failure) {
          if (!(failure instanceof UpstreamRejectedError && failure.status === 403)) throw failure;
          last = failure;
        }
      }
      throw last;
    }
  };

  const powerLevelQueue = new KeyedQueue<RoomId>();
  const puppetsRegistering = new Map<UserId, Promise<unknown>>();
  const writePowerLevel = async (
    roomId: RoomId,
    userId: UserId,
    level: number | null,
    actor: UserId | null,
  ) => {
    await ensureBot();
    // Written by whoever acts, so Matrix credits them (the bot for no one in particular).
    const writer = actor === null ? bot.underlyingClient : clientOf(actor);
    const current = (await asBotOrMember(roomId, (client) =>
      client.getRoomStateEvent(roomId, "m.room.power_levels", ""),
    )) as { users?: Record<string, number> };
    const users = Object.assign(dict<number>(), current.users);
    if (level === null) delete users[userId];
    else users[userId] = level;
    const next = { ...current, users };
    await upstream(() => writer.sendStateEvent(roomId, "m.room.power_levels", "", next));
    return next;
  };

  return {
    async setRoomState(roomId, type, content) {
      await ensureBot();
      await upstream(() => bot.underlyingClient.sendStateEvent(roomId, type, "", content));
    },
    async publishRoom(roomId, listed) {
      await ensureBot();
      const visibility = listed ? "public" : "private";
      const room = encodeURIComponent(roomId);
      // The appservice's own list always takes it; the server's list only where
      // room_list_publication_rules let the bot publish (Synapse's default is admins only).
      await upstream(() =>
        bot.underlyingClient.doRequest(
          "PUT",
          `/_matrix/client/v3/directory/list/appservice/${encodeURIComponent(homeserver.directoryNetwork)}/${room}`,
          null,
          { visibility },
        ),
      );
      try {
        await upstream(() =>
          bot.underlyingClient.doRequest("PUT", `/_matrix/client/v3/directory/list/room/${room}`, null, {
            visibility,
          }),
        );
        return true;
      } catch (error) {
        if (error instanceof UpstreamRejectedError && error.status < 500) return false;
        throw error;
      }
    },
    async removeAlias(alias) {
      await ensureBot();
      await unlessNotFound(() => upstream(() => bot.underlyingClient.deleteRoomAlias(alias)));
    },
    async ensureRoom(aliasLocalpart, name, options = {}) {
      await ensureBot();
      const creation = roomCreationOptions(name, options.visibility ?? "public", options.owner);
      try {
        const roomId = await upstream(() =>
          bot.underlyingClient.createRoom({ ...creation, room_alias_name: aliasLocalpart }),
        );
        return { roomId: asRoomId(roomId), powerLevels: creation.power_level_content_override };
      } catch (error) {
        if (!isAliasTaken(error)) throw error;
        // The alias exists already (created earlier, by a racing alias query or by another node
        // creating the same channel): adopt its room.
        const roomId = await upstream(() =>
          bot.underlyingClient.resolveRoom(`#${aliasLocalpart}:${serverName}`),
        );
        // The alias can name a room whose creation is still going on (another node creating the
        // same channel): until its join rule is set, members' joins would be refused. Wait for it.
        for (let attempt = 1; ; attempt++) {
          try {
            await upstream(() => bot.underlyingClient.joinRoom(roomId));
            await upstream(() => bot.underlyingClient.getRoomStateEvent(roomId, "m.room.join_rules", ""));
            break;
          } catch (joinError) {
            const notYet =
              isRejectedWith(joinError, "M_FORBIDDEN") || isRejectedWith(joinError, "M_NOT_FOUND");
            if (!notYet || attempt >= ADOPT_JOIN_ATTEMPTS) throw joinError;
            await new Promise((resolve) => setTimeout(resolve, ADOPT_JOIN_WAIT_MS));
          }
        }
        return { roomId: asRoomId(roomId) };
      }
    },
    setPowerLevel(roomId, userId, level, actor = null) {
      // Read-modify-write of one state event: changes in one room must not interleave, or one
      // would overwrite the other (two timeouts ending at once after a restart).
      return powerLevelQueue.run(roomId, () => writePowerLevel(roomId, userId, level, actor));
    },
    async setMembership(roomId, actor, target, change, mirroring) {
      // One state event for joins, leaves, kicks, unbans and bans alike: it can carry the marker
      // and the original time, which the /kick and /ban endpoints cannot.
      if (actor === null) await ensureBot();
      const client = actor === null ? bot.underlyingClient : clientOf(actor);
      const content =
        change.membership === "join"
          ? {
              membership: "join",
              displayname: change.profile.display_name,
              ...(change.profile.avatar_url ? { avatar_url: change.profile.avatar_url } : {}),
            }
          : { membership: change.membership, ...(change.reason ? { reason: change.reason } : {}) };
      return upstream(async () =>
        eventIdOf(
          await client.doRequest(
            "PUT",
            `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/state/m.room.member/${encodeURIComponent(target)}`,
            { ts: mirroring.ts },
            { ...content, [MARKER_KEY]: mirroring.marker },
            SEND_TIMEOUT_MS,
          ),
        ),
      );
    },
    async createDirectRoom(creator, others) {
      // Matrix clients name a room without a name after its other members: so no alias (it would
      // be the name), no bot in it (it would be one of "them"), and no guest access event (noise
      // at the top of the timeline: the public_chat preset sends none, the join rule is invite).
      // The creator owns it as its creator (room v12 forbids listing creators in power levels);
      // any member may invite, so one who left can be let back in by another (the bot is not there).
      const powerLevels = { invite: 0 };
      const roomId = await upstream(() =>
        clientOf(creator).createRoom({
          preset: "public_chat",
          visibility: "private",
          is_direct: true,
          invite: [...others],
          initial_state: [
            { type: "m.room.join_rules", state_key: "", content: { join_rule: "invite" } },
            { type: "m.room.history_visibility", state_key: "", content: { history_visibility: "shared" } },
          ],
          power_level_content_override: powerLevels,
        }),
      );
      return { roomId: asRoomId(roomId), powerLevels };
    },
    async declineInvite(roomId, userId, reason) {
      await upstream(() =>
        clientOf(userId).doRequest(
          "POST",
          `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/leave`,
          null,
          {
            reason,
          },
        ),
      );
    },
    async updateAccountData(userId, type, update) {
      const client = clientOf(userId);
      const current = (await unlessNotFound(() => upstream(() => client.getAccountData(type)))) as
        | Record<string, unknown>
        | undefined;
      await upstream(() => client.setAccountData(type, update(current ?? {})));
    },
    async invite(roomId, userId) {
      try {
        await asBotOrMember(roomId, (client) => client.inviteUser(userId, roomId));
      } catch (error) {
        // Already invited or joined: the goal is reached.
        if (
          !(error instanceof UpstreamRejectedError && error.status === 403 && /already/i.test(error.message))
        )
          throw error;
      }
    },
    async redactAsBot(roomId, eventId, reason) {
      await upstream(() => bot.underlyingClient.redactEvent(roomId, eventId, reason));
    },
    async ensurePuppet(userId) {
      // One registration at a time per puppet: two at once both POST /register, and the loser's
      // M_USER_IN_USE is logged by bot-sdk as an error although nothing went wrong.
      let registering = puppetsRegistering.get(userId);
      if (!registering) {
        registering = upstream(() => appservice.getIntentForUserId(userId).ensureRegistered()).finally(() =>
          puppetsRegistering.delete(userId),
        );
        puppetsRegistering.set(userId, registering);
      }
      await registering;
    },
    async setDisplayName(userId, displayName) {
      await upstream(() => clientOf(userId).setDisplayName(displayName));
    },
    sendMessage(roomId, userId, message, mirroring) {
      return send(roomId, userId, "m.room.message", buildMessageContent(message, media), mirroring);
    },
    react(roomId, userId, eventId, key, mirroring) {
      const content = { "m.relates_to": { rel_type: "m.annotation", event_id: eventId, key } };
      return send(roomId, userId, "m.reaction", content, mirroring);
    },
    redact(roomId, userId, eventId, mirroring, reason) {
      // Synapse does not honour `ts` on redactions: a delete shows at the time it reaches Matrix.
      return upstream(async () =>
        eventIdOf(
          await clientOf(userId).doRequest(
            "PUT",
            `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/redact/${encodeURIComponent(eventId)}/${encodeURIComponent(mirroring.txnId)}`,
            null,
            { ...(reason === undefined ? {} : { reason }), [MARKER_KEY]: mirroring.marker },
            SEND_TIMEOUT_MS,
          ),
        ),
      );
    },
    async findMarked(roomId, marker, limit) {
      const page = await asBotOrMember(roomId, (client) => roomMessagesRaw(client, roomId, null, "b", limit));
      const found = page.raw.find((raw) => markerOf(raw) === marker);
      const id = (found as { event_id?: unknown } | undefined)?.event_id;
      return typeof id === "string" ? asMatrixEventId(id) : undefined;
    },
    async setPresence(userId, presence, statusMsg) {
      await upstream(() =>
        clientOf(userId).doRequest(
          "PUT",
          `/_matrix/client/v3/presence/${encodeURIComponent(userId)}/status`,
          null,
          { presence, status_msg: statusMsg ?? "" },
          SEND_TIMEOUT_MS,
        ),
      );
    },
    async setTyping(roomId, userId, typing, timeoutMs) {
      await upstream(() =>
        clientOf(userId).doRequest(
          "PUT",
          `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/typing/${encodeURIComponent(userId)}`,
          null,
          typing ? { typing, timeout: timeoutMs } : { typing },
          SEND_TIMEOUT_MS,
        ),
      );
    },
    async sendReceipt(roomId, userId, eventId) {
      await upstream(() =>
        clientOf(userId).doRequest(
          "POST",
          `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/receipt/m.read/${encodeURIComponent(eventId)}`,
          null,
          {},
        ),
      );
    },
    eventContext: (roomId, eventId) =>
      asBotOrMember(roomId, (client) => eventContext(client, roomId, eventId)),
    async roomMessages(roomId, from, direction, limit) {
      const page = await asBotOrMember(roomId, (client) =>
        roomMessagesRaw(client, roomId, from, direction, limit),
      );
      return { events: page.raw.map((raw) => parseRoomEvent(raw, media)), next: page.next };
    },
    uploadMedia(userId, data, mimeType, filename) {
      return upstream(() => clientOf(userId).uploadContent(data, mimeType, filename));
    },
    downloadMedia: (mxc) => downloadMedia(homeserver.url, homeserver.accessToken, mxc),
    async getProfile(userId) {
      const profile = (await unlessNotFound(() =>
        upstream(() => bot.underlyingClient.getUserProfile(userId)),
      )) as { displayname?: unknown; avatar_url?: unknown } | undefined;
      return (
        profile && {
          display_name: typeof profile.displayname === "string" ? profile.displayname : null,
          avatar_url: typeof profile.avatar_url === "string" ? profile.avatar_url : null,
        }
      );
    },
  };
}
