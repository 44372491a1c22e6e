// Audiences: a per-channel listening role on the fan-out path. A "vip" is heard only by other
// vips (and moderators); a "quiet" listener hears no messages at all. Only message pushes (and
// fetched messages) are filtered; membership, reactions and typing are not, and Matrix clients
// see the whole room.
import { ProtocolError } from "../../protocol/errors.ts";
import type { ChatEvent } from "../../protocol/events.ts";
import type { ChannelName, UserId } from "../../protocol/ids.ts";
import type { Actor } from "../actor.ts";
import type { Channels } from "../channels.ts";
import type { ChannelRow, Store } from "../ports/store.ts";
import type { Roles } from "./roles.ts";

export const AUDIENCES = ["vip", "quiet"] as const;
export type Audience = (typeof AUDIENCES)[number];

export interface Audiences {
  set(actor: Actor, channel: ChannelName, user: UserId, audience: Audience | null): Promise<void>;
  /** Drops what is cached of the channel (another node changed it). */
  forget(channelId: number): void;
  forgetAll(): void;
  /** Who hears a message: null when the channel has no audiences (everyone does). */
  filterFor(channel: ChannelRow, event: ChatEvent): Promise<((listener: UserId) => boolean) | null>;
}

export function createAudiences(
  store: Store,
  channels: Channels,
  roles: Roles,
  changed: (channelId: number) => void = () => undefined,
): Audiences {
  const cache = new Map<number, Map<UserId, string>>();
  const of = async (channelId: number) => {
    let map = cache.get(channelId);
    if (!map) {
      map = await store.audiences(channelId);
      cache.set(channelId, map);
    }
    return map;
  };
  return {
    async set(actor, name, user, audience) {
      const channel = await channels.get(name, actor);
      if (!roles.canModerate(channel, actor.userId, actor.admin)) {
        throw new ProtocolError("chat.denied", "Only moderators and owners can set audiences.");
      }
      await store.setAudience(channel.id, user, audience);
      cache.delete(channel.id);
      changed(channel.id);
    },
    forget(channelId) {
      cache.delete(channelId);
    },
    forgetAll() {
      cache.clear();
    },
    async filterFor(channel, event) {
      if (event.event_type !== "channel.message") return null;
      const audiences = await of(channel.id);
      if (audiences.size === 0) return null;
      const senderIsVip = event.sender !== undefined && audiences.get(event.sender) === "vip";
      return (listener) => {
        const mine = audiences.get(listener);
        if (mine === "quiet") return false;
        if (!senderIsVip || mine === "vip" || listener === event.sender) return true;
        return roles.canModerate(channel, listener);
      };
    },
  };
}
