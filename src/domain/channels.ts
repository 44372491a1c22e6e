// Channels: created on first use (a native join or subscribe, or a Matrix user joining the alias),
// each mapped to exactly one Matrix room for good.
import { ProtocolError } from "../protocol/errors.ts";
import type { ChannelName, RoomId } from "../protocol/ids.ts";
import type { Actor } from "./actor.ts";
import type { MatrixPort } from "./matrix-port.ts";
import type { Naming } from "./naming.ts";
import { type RateLimiter, takeForActor, type UserAndAddressRule } from "./rate-limit-port.ts";
import type { ChannelRow, Store } from "./store-port.ts";

export interface ChannelState {
  readonly name: ChannelName;
  readonly topic: string | null;
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

export interface Channels {
  find(name: ChannelName): ChannelRow | undefined;
  /**
   * The channel, creating its room when it has none yet (never for reserved names: those are
   * `chat.unknown` until their own action creates them). Concurrent calls share one creation.
   * Creating one counts against the creator's limit, and guests may be kept from it.
   */
  ensure(name: ChannelName, creator: Actor): Promise<ChannelRow>;
  /** Like ensure, also telling whether this very call created it (its caller becomes owner). */
  ensurePublic(name: ChannelName, creator: Actor): Promise<{ channel: ChannelRow; created: boolean }>;
  /** Creates any channel, reserved names included: for direct and moderators' channels. */
  ensureNoting(
    name: ChannelName,
    visibility?: "public" | "private",
  ): Promise<{ channel: ChannelRow; created: boolean }>;
  /** Records a room that already exists (created for an alias query, or found by alias). */
  adopt(name: ChannelName, roomId: RoomId): ChannelRow;
  state(channel: ChannelRow): ChannelState;
}

/** Who may bring channels into being, and how often. */
export interface CreationPolicy {
  readonly limiter: RateLimiter;
  readonly rules: UserAndAddressRule;
  readonly guestsCreate: boolean;
}

export function createChannels(
  store: Store,
  matrix: MatrixPort,
  naming: Naming,
  policy: CreationPolicy,
): Channels {
  const inFlight = new Map<ChannelName, Promise<ChannelRow>>();

  const adopt = (name: ChannelName, roomId: RoomId) => store.insertChannel(name, roomId, naming.alias(name));

  const create = async (name: ChannelName, visibility: "public" | "private"): Promise<ChannelRow> => {
    const roomId = await matrix.ensureRoom(naming.aliasLocalpart(name), name, visibility);
    const channel = adopt(name, roomId);
    if (visibility === "private") store.setJoinRule(channel.id, "invite");
    return store.channelById(channel.id) ?? channel;
  };

  const ensurePublic = async (name: ChannelName, creator: Actor) => {
    if (store.channelByName(name)) return ensureNoting(name);
    if (isReservedName(name)) {
      throw new ProtocolError("chat.unknown", `No channel ${name}; this name is kept for private channels.`);
    }
    if (creator.isGuest && !creator.admin && !policy.guestsCreate) {
      throw new ProtocolError("chat.unknown", `No channel ${name}; guests cannot create channels here.`);
    }
    if (!inFlight.has(name)) {
      takeForActor(policy.limiter, "channels", creator, policy.rules, "You are creating channels too fast.");
    }
    return ensureNoting(name);
  };

  const ensureNoting = async (name: ChannelName, visibility: "public" | "private" = "public") => {
    const existing = store.channelByName(name);
    if (existing) return { channel: existing, created: false };
    const pending = inFlight.get(name);
    if (pending) return { channel: await pending, created: false };
    const creation = create(name, visibility).finally(() => inFlight.delete(name));
    inFlight.set(name, creation);
    return { channel: await creation, created: true };
  };

  return {
    find: (name) => store.channelByName(name),
    adopt,
    ensure: async (name, creator) => (await ensurePublic(name, creator)).channel,
    ensurePublic,
    ensureNoting,
    state: (channel) => ({
      name: channel.name,
      topic: channel.topic,
      room_id: channel.roomId,
      alias: channel.alias,
    }),
  };
}
