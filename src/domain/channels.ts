// Channels: created on first use (a native join or subscribe, or a Matrix user joining the alias),
// each mapped to exactly one Matrix room for good.
import type { Logger } from "../logging.ts";
import { ProtocolError } from "../protocol/errors.ts";
import type { ChannelName, RoomId, UserId } from "../protocol/ids.ts";
import type { Actor } from "./actor.ts";
import type { Roles } from "./moderation/roles.ts";
import type { Naming } from "./naming.ts";
import type { MatrixPort } from "./ports/matrix.ts";
import { type SharedRateLimiter, takeForActor, type UserAndAddressRule } from "./ports/rate-limit.ts";
import type { ChannelRow, Store } from "./ports/store.ts";

export interface ChannelState {
  readonly name: ChannelName;
  readonly topic: string | null;
  /** The room's name and avatar (mxc) as Matrix users set them, or null. */
  readonly room_name: string | null;
  readonly avatar_url: string | null;
  readonly room_id: RoomId;
  readonly alias: string;
}

/**
 * Names of direct channels (`dm.*`) and moderators' channels (`*.mods`, `mods.*`) are predictable:
 * only chat.direct.create and chat.mod_channel may bring them into being, or anyone could claim
 * one first and read along.
 */
export const isReservedName = (name: string): boolean =>
  name.startsWith("dm.") || name.startsWith("mods.") || name.endsWith(".mods");

/** The one answer for a channel someone may not know of: it must not tell "missing" from "not yours". */
export const unknownChannel = (name: string): ProtocolError =>
  new ProtocolError("chat.unknown", `No channel ${name}.`);

export interface Channels {
  /** By name, whoever asks: for the system's own use, never to answer a user. */
  find(name: ChannelName): Promise<ChannelRow | undefined>;
  /**
   * The channel as `actor` may see it. A channel that does not exist, a direct channel that is not
   * theirs and a moderators' channel of a channel they do not moderate are the same `chat.unknown`.
   */
  get(name: ChannelName, actor: Actor): Promise<ChannelRow>;
  /**
   * The channel, creating its room when it has none yet (never for reserved names: those are
   * `chat.unknown` until their own action creates them). Concurrent calls share one creation.
   * Creating one counts against the creator's limit, and guests may be kept from it.
   */
  ensure(name: ChannelName, creator: Actor): Promise<ChannelRow>;
  /** Like ensure, also telling whether this very call created it (its creator is its owner). */
  ensurePublic(name: ChannelName, creator: Actor): Promise<{ channel: ChannelRow; created: boolean }>;
  /** Creates any channel, reserved names included: for direct and moderators' channels. */
  ensureNoting(
    name: ChannelName,
    visibility?: "public" | "private",
    /** Owner (power level 100) from the room's first event, when this call creates it. */
    owner?: UserId,
    /** `listed: false` keeps a new public channel out of the room directory. */
    options?: { readonly listed?: boolean },
  ): Promise<{ channel: ChannelRow; created: boolean }>;
  /** Records a room that already exists (created for an alias query, or found by alias). */
  adopt(name: ChannelName, roomId: RoomId): Promise<ChannelRow>;
  state(channel: ChannelRow): ChannelState;
}

/** Who may bring channels into being, and how often. */
export interface CreationPolicy {
  readonly limiter: SharedRateLimiter;
  readonly rules: UserAndAddressRule;
  readonly guestsCreate: boolean;
}

export interface ChannelsDeps {
  readonly store: Store;
  readonly matrix: MatrixPort;
  readonly naming: Naming;
  readonly roles: Roles;
  readonly policy: CreationPolicy;
  /** Whether new public channels are listed in the room directory (best effort, logged). */
  readonly directory: { readonly publish: boolean; readonly log: Logger };
}

export function createChannels(deps: ChannelsDeps): Channels {
  const { store, matrix, naming, roles, policy, directory } = deps;
  const inFlight = new Map<ChannelName, Promise<ChannelRow>>();

  const hiddenFrom = async (channel: ChannelRow, actor: Actor): Promise<boolean> => {
    const direct = await store.directMembers(channel.id);
    if (direct.length > 0 && !direct.includes(actor.userId)) return true;
    const parentId = (await store.settings(channel.id)).parentChannelId;
    if (parentId === null) return false;
    const parent = await store.channelById(parentId);
    return !parent || !roles.canModerate(parent, actor.userId, actor.admin);
  };

  const get = async (name: ChannelName, actor: Actor): Promise<ChannelRow> => {
    const channel = await store.channelByName(name);
    if (!channel || (await hiddenFrom(channel, actor))) throw unknownChannel(name);
    return channel;
  };

  const adopt = (name: ChannelName, roomId: RoomId) => store.insertChannel(name, roomId, naming.alias(name));

  const create = async (
    name: ChannelName,
    visibility: "public" | "private",
    owner: UserId | undefined,
    listed: boolean,
  ): Promise<ChannelRow> => {
    const room = await matrix.ensureRoom(naming.aliasLocalpart(name), name, {
      visibility,
      ...(owner === undefined ? {} : { owner }),
    });
    const channel = await adopt(name, room.roomId);
    if (visibility === "private") await store.setJoinRule(channel.id, "invite");
    // Known before the homeserver's own copy arrives: the creator is owner from the first reply.
    if (room.powerLevels !== undefined) await store.setPowerLevels(channel.id, room.powerLevels);
    // Direct and moderators' channels are never listed; a failure leaves it unlisted, not uncreated.
    if (listed && directory.publish && visibility === "public" && !isReservedName(name)) {
      matrix.publishRoom(room.roomId, true).then(
        (server) => {
          if (!server)
            directory.log.info(`${name} is listed in the appservice's room list only (see docs/deploy.md)`);
        },
        (error: unknown) => directory.log.warn(`listing ${name} in the room directory failed`, error),
      );
    }
    return (await store.channelById(channel.id)) ?? channel;
  };

  const ensurePublic = async (name: ChannelName, creator: Actor) => {
    if (await store.channelByName(name)) return { channel: await get(name, creator), created: false };
    // Direct and moderators' channel names are kept for their own actions.
    if (isReservedName(name)) throw unknownChannel(name);
    if (creator.isGuest && !creator.admin && !policy.guestsCreate) {
      throw new ProtocolError("chat.unknown", `No channel ${name}; guests cannot create channels here.`);
    }
    if (!inFlight.has(name)) {
      await takeForActor(
        policy.limiter,
        "channels",
        creator,
        policy.rules,
        "You are creating channels too fast.",
      );
    }
    return ensureNoting(name, "public", creator.userId);
  };

  const ensureNoting = async (
    name: ChannelName,
    visibility: "public" | "private" = "public",
    owner?: UserId,
    options: { readonly listed?: boolean } = {},
  ) => {
    const existing = await store.channelByName(name);
    if (existing) return { channel: existing, created: false };
    const pending = inFlight.get(name);
    if (pending) return { channel: await pending, created: false };
    const creation = create(name, visibility, owner, options.listed !== false).finally(() =>
      inFlight.delete(name),
    );
    inFlight.set(name, creation);
    return { channel: await creation, created: true };
  };

  return {
    find: (name) => store.channelByName(name),
    get,
    adopt,
    ensure: async (name, creator) => (await ensurePublic(name, creator)).channel,
    ensurePublic,
    ensureNoting,
    state: (channel) => ({
      name: channel.name,
      topic: channel.topic,
      room_name: channel.roomName ?? null,
      avatar_url: channel.avatarUrl ?? null,
      room_id: channel.roomId,
      alias: channel.alias,
    }),
  };
}
