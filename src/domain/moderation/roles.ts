// Roles per channel, read from the room's Matrix power levels so that they bind Element users and
// native users alike: owner (100), moderator (50), user (0). Platform admins act as owners.
import type { Role } from "../../protocol/events.ts";
import type { UserId } from "../../protocol/ids.ts";
import type { Naming } from "../naming.ts";
import type { ChannelRow } from "../ports/store.ts";
import { readPowerLevels } from "./power-levels.ts";

export type { Role };

export const ROLE_LEVELS: Record<Role, number> = { owner: 100, moderator: 50, user: 0 };

export const roleOfLevel = (level: number): Role =>
  level >= ROLE_LEVELS.owner ? "owner" : level >= ROLE_LEVELS.moderator ? "moderator" : "user";

export interface Roles {
  level(channel: ChannelRow, userId: UserId): number;
  role(channel: ChannelRow, userId: UserId, admin?: boolean): Role;
  /** Moderator or more (admins always). */
  canModerate(channel: ChannelRow, userId: UserId, admin?: boolean): boolean;
  /** The bridge bot, which created the rooms and outranks everyone. */
  isBot(userId: UserId): boolean;
  /** Whether `actor` outranks `target` (admins outrank everyone but the bot). */
  outranks(channel: ChannelRow, actor: UserId, target: UserId, admin?: boolean): boolean;
}

export function createRoles(naming: Naming): Roles {
  const level = (channel: ChannelRow, userId: UserId) =>
    // Whoever created the room (the bot, or a direct room's creator): in room v12 the creator is
    // above every power level.
    userId === naming.botUserId || userId === channel.creator
      ? Number.POSITIVE_INFINITY
      : readPowerLevels(channel.powerLevels).of(userId);
  return {
    level,
    isBot: (userId) => userId === naming.botUserId,
    role: (channel, userId, admin = false) => (admin ? "owner" : roleOfLevel(level(channel, userId))),
    canModerate: (channel, userId, admin = false) => admin || level(channel, userId) >= ROLE_LEVELS.moderator,
    outranks: (channel, actor, target, admin = false) =>
      target !== naming.botUserId && (admin || level(channel, actor) > level(channel, target)),
  };
}
