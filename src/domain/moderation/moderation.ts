// Moderation across both worlds: kicks, bans, timeouts and roles hold in Parley at once and become
// Matrix actions through the outbox (with reasons), so they bind Element users too. A native
// moderator acts as their puppet (whose power level they hold); an admin without one acts through
// the bot.

import type { Logger } from "../../logging.ts";
import { ProtocolError } from "../../protocol/errors.ts";
import { pushFrame } from "../../protocol/frames.ts";
import type { ChannelName, UserId } from "../../protocol/ids.ts";
import { guarded } from "../../shared/guard.ts";
import type { Actor } from "../actor.ts";
import type { Channels } from "../channels.ts";
import type { FanOut } from "../ports/fanout.ts";
import type { ChannelRow, Store } from "../ports/store.ts";
import type { MemberActions } from "./member-actions.ts";
import { nameIn, timeoutEndedNotice, timeoutNotice } from "./notices.ts";
import type { PowerLevelChanges } from "./power-level-changes.ts";
import { ROLE_LEVELS, type Role, type Roles } from "./roles.ts";

export const MIN_TIMEOUT_S = 120;
/** Seven days: a mute of a live event's troublemaker for the rest of the week. */
export const MAX_TIMEOUT_S = 7 * 24 * 3600;
/** A timeout without a duration: a mute that lasts until a moderator lifts it. */
export const UNTIL_LIFTED = Number.MAX_SAFE_INTEGER - 1;
/** How a timeout's end reads on the wire: null for one that lasts until lifted (or a silence). */
export const untilOnWire = (until: number): number | null => (until >= UNTIL_LIFTED ? null : until);
/** How often every node looks for timeouts past their end that no timer of its own covers. */
const SWEEP_EVERY_MS = 2_000;
/** A silence (user.silence) is a timeout that only user.reactivate ends. */
export const SILENCED_UNTIL = Number.MAX_SAFE_INTEGER;

export interface Moderation {
  act(
    actor: Actor,
    channel: ChannelName,
    action: "kick" | "ban" | "unban",
    target: UserId,
    reason?: string,
  ): Promise<void>;
  setRole(
    actor: Actor,
    channel: ChannelName | undefined,
    target: UserId,
    role: Role,
  ): Promise<{ channels: ChannelName[]; failed?: ChannelName[] }>;
  timeout(
    actor: Actor,
    channel: ChannelName,
    target: UserId,
    /** Undefined: until a moderator lifts it. */
    seconds: number | undefined,
    reason?: string,
  ): Promise<{ until: number | null; karma: number }>;
  untimeout(actor: Actor, channel: ChannelName, target: UserId): Promise<void>;
  /** The end of a running timeout of the user in the channel, if any. */
  timedOutUntil(channel: ChannelRow, userId: UserId): Promise<number | undefined>;
  /** Re-arms timers for timeouts stored before a restart; overdue ones end now. */
  resume(): Promise<void>;
  stop(): void;
}

export interface ModerationDeps {
  readonly store: Store;
  readonly channels: Channels;
  readonly memberActions: MemberActions;
  readonly powerLevels: PowerLevelChanges;
  readonly roles: Roles;
  readonly fanout: FanOut;
  readonly log: Logger;
}

export function createModeration(deps: ModerationDeps): Moderation {
  const { store, channels, roles, fanout, log, memberActions, powerLevels } = deps;
  const timers = new Map<string, NodeJS.Timeout>();
  let sweeper: NodeJS.Timeout | undefined;
  const key = (channelId: number, userId: UserId) => `${channelId}\n${userId}`;

  const requireModerator = (channel: ChannelRow, actor: Actor) => {
    if (!roles.canModerate(channel, actor.userId, actor.admin)) {
      throw new ProtocolError("chat.denied", "Only moderators and owners can do this.");
    }
  };
  const requireOutranks = (channel: ChannelRow, actor: Actor, target: UserId) => {
    if (!roles.outranks(channel, actor.userId, target, actor.admin)) {
      throw new ProtocolError("chat.denied", "You can only moderate users below your own role.");
    }
  };
  /** Acts as the puppet when its power level allows, else (admins) as the bot. */
  const matrixActor = (channel: ChannelRow, actor: Actor) =>
    roles.level(channel, actor.userId) >= ROLE_LEVELS.moderator ? actor.userId : null;

  const announce = (channel: ChannelRow, payload: Record<string, unknown>) =>
    fanout.publish(channel.name, pushFrame("chat.moderation", { channel: channel.name, ...payload }));

  /** Ends the user's timeout; `due`: only one whose end has come (a timer's or a sweep's view may be old). */
  /** Ends the user's timeout; `liftedBy`: a moderator ended it early (else it ran out). */
  const endTimeout = async (channelId: number, userId: UserId, due = true, liftedBy?: Actor) => {
    timers.delete(key(channelId, userId));
    const channel = await store.channelById(channelId);
    if (!channel) return;
    const target = await nameIn(store, channel, userId);
    const lifter = liftedBy && (await nameIn(store, channel, liftedBy.userId));
    const ended = await store.transaction(async () => {
      const row = await store.timeout(channelId, userId);
      // Extended or replaced (a silence) since this was scheduled, maybe on another node: not yet.
      if (!row || (due && row.until > Date.now())) return false;
      // Whoever removes the row restores the level, once.
      if (!(await store.removeTimeout(channelId, userId, due ? row.until : undefined))) return false;
      await powerLevels.set(channel, userId, row.previousLevel, {
        by: liftedBy ? matrixActor(channel, liftedBy) : null,
        notice: timeoutEndedNotice(target, lifter),
      });
      return true;
    });
    if (ended) announce(channel, { action: "untimeout", user: userId });
  };

  const schedule = (channelId: number, userId: UserId, until: number) => {
    clearTimeout(timers.get(key(channelId, userId)));
    if (until >= UNTIL_LIFTED) return;
    const delay = Math.max(0, until - Date.now());
    timers.set(
      key(channelId, userId),
      setTimeout(
        guarded(log, `ending a timeout in channel ${channelId}`, () => endTimeout(channelId, userId)),
        Math.min(delay, 2 ** 31 - 1),
      ),
    );
  };

  return {
    async act(actor, name, action, target, reason) {
      const channel = await channels.get(name, actor);
      requireModerator(channel, actor);
      if (action !== "unban") requireOutranks(channel, actor, target);
      // Known locally: no need to ask the homeserver to refuse it.
      const membership = (await store.member(channel.id, target))?.membership;
      if (action === "kick" && membership !== "join" && membership !== "invite") {
        throw new ProtocolError("chat.denied", "That user is not in this channel.");
      }
      if (action === "unban" && membership !== "ban") {
        throw new ProtocolError("chat.denied", "That user is not banned here.");
      }
      await memberActions.apply(channel, {
        target,
        membership: action === "ban" ? "ban" : "leave",
        by: actor.userId,
        matrixActor: matrixActor(channel, actor),
        reason,
      });
    },

    async setRole(actor, name, target, role) {
      if (roles.isBot(target)) throw new ProtocolError("chat.denied", "The bridge bot's role is fixed.");
      // Owners change roles of those below them (and their own); the same rule in every channel.
      const allowed = (c: ChannelRow) =>
        roles.role(c, actor.userId, actor.admin) === "owner" &&
        (target === actor.userId || roles.outranks(c, actor.userId, target, actor.admin));
      let targets: ChannelRow[];
      if (name) {
        const channel = await channels.get(name, actor);
        if (roles.role(channel, actor.userId, actor.admin) !== "owner") {
          throw new ProtocolError("chat.denied", "Only owners can change roles.");
        }
        if (target !== actor.userId) requireOutranks(channel, actor, target);
        targets = [channel];
      } else {
        targets = (await store.allChannels()).filter(allowed);
      }
      // By the acting owner's puppet where its level allows: Matrix credits them, not the bot.
      for (const channel of targets)
        await powerLevels.set(channel, target, role === "user" ? null : ROLE_LEVELS[role], {
          by: matrixActor(channel, actor),
        });
      return { channels: targets.map((channel) => channel.name) };
    },

    async timeout(actor, name, target, seconds, reason) {
      const channel = await channels.get(name, actor);
      requireModerator(channel, actor);
      requireOutranks(channel, actor, target);
      if (
        seconds !== undefined &&
        (!Number.isInteger(seconds) || seconds < MIN_TIMEOUT_S || seconds > MAX_TIMEOUT_S)
      ) {
        throw new ProtocolError(
          "protocol.invalid_payload",
          `A timeout lasts ${MIN_TIMEOUT_S}-${MAX_TIMEOUT_S} seconds.`,
          {
            fields: ["duration"],
          },
        );
      }
      const existing = await store.timeout(channel.id, target);
      if (existing?.until === SILENCED_UNTIL) {
        throw new ProtocolError(
          "chat.denied",
          "A platform admin silenced this user; only user.reactivate lifts it.",
        );
      }
      const explicit = (channel.powerLevels as { users?: Record<string, number> } | null)?.users?.[target];
      const until = seconds === undefined ? UNTIL_LIFTED : Date.now() + seconds * 1000;
      const moderatorName = await nameIn(store, channel, actor.userId);
      const targetName = await nameIn(store, channel, target);
      const karma = await store.transaction(async () => {
        await store.putTimeout({
          channelId: channel.id,
          userId: target,
          until,
          previousLevel: existing ? existing.previousLevel : (explicit ?? null),
          by: actor.userId,
          reason: reason ?? null,
        });
        // Below events_default: the homeserver itself refuses their messages, Element users' too.
        // Set by the moderator's puppet where it may, and said in words for Matrix clients.
        await powerLevels.set(channel, target, -1, {
          by: matrixActor(channel, actor),
          notice: timeoutNotice(moderatorName, targetName, seconds, reason),
        });
        return await store.addKarma(target);
      });
      schedule(channel.id, target, until);
      announce(channel, {
        action: "timeout",
        user: target,
        until: untilOnWire(until),
        by: actor.userId,
        ...(reason ? { reason } : {}),
      });
      return { until: untilOnWire(until), karma };
    },

    async untimeout(actor, name, target) {
      const channel = await channels.get(name, actor);
      requireModerator(channel, actor);
      const row = await store.timeout(channel.id, target);
      if (!row) return;
      if (row.until === SILENCED_UNTIL) {
        throw new ProtocolError(
          "chat.denied",
          "A platform admin silenced this user; only user.reactivate lifts it.",
        );
      }
      clearTimeout(timers.get(key(channel.id, target)));
      await endTimeout(channel.id, target, false, actor);
    },

    async timedOutUntil(channel, userId) {
      const row = await store.timeout(channel.id, userId);
      return row && row.until > Date.now() ? row.until : undefined;
    },

    async resume() {
      for (const row of await store.allTimeouts()) schedule(row.channelId, row.userId, row.until);
      // Timeouts set on another node (or on one that died) end here too: whoever ends one first
      // ends it, once (removeTimeout says who).
      sweeper ??= setInterval(
        guarded(log, "ending overdue timeouts", async () => {
          const now = Date.now();
          for (const row of await store.allTimeouts()) {
            if (row.until <= now && !timers.has(key(row.channelId, row.userId)))
              await endTimeout(row.channelId, row.userId);
          }
        }),
        SWEEP_EVERY_MS,
      );
      sweeper.unref();
    },

    stop() {
      clearInterval(sweeper);
      sweeper = undefined;
      for (const timer of timers.values()) clearTimeout(timer);
      timers.clear();
    },
  };
}
