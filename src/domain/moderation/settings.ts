// Channel settings and the rules that bind senders: slow mode, channel rules (optionally to be
// accepted before posting), join policies (no guests, or a JWT claim value), re-checked for
// everyone present when they change, and media review (files held until a moderator marks them).
import type { Logger } from "../../logging.ts";
import { ProtocolError } from "../../protocol/errors.ts";
import type { MessageContent, SettingsView } from "../../protocol/events.ts";
import { EncodedFrame, pushFrame } from "../../protocol/frames.ts";
import type { ChannelName, MatrixEventId, UserId } from "../../protocol/ids.ts";
import type { Actor } from "../actor.ts";
import type { Channels } from "../channels.ts";
import type { Naming } from "../naming.ts";
import type { FanOut } from "../ports/fanout.ts";
import type { MatrixPort } from "../ports/matrix.ts";
import type { PostWindows } from "../ports/shared-state.ts";
import type { ChannelRow, ChannelSettings, MediaReviewMode, RequiredClaim, Store } from "../ports/store.ts";
import { presenceKey } from "../presence.ts";
import { retryWhenRateLimited } from "../retry.ts";
import type { MemberActions } from "./member-actions.ts";
import { nameIn, rulesNotice, slowModeNotice } from "./notices.ts";
import type { PowerLevelChanges } from "./power-level-changes.ts";
import type { Roles } from "./roles.ts";

export interface SettingsRequest {
  readonly slow_mode?: number | undefined;
  readonly rules?: string | null | undefined;
  readonly rules_required?: boolean | undefined;
  readonly guests?: boolean | undefined;
  readonly required_claim?: RequiredClaim | null | undefined;
  readonly media_review?: MediaReviewMode | undefined;
  readonly live?: boolean | undefined;
}

export type { SettingsView };

export interface Settings {
  view(channel: ChannelRow): Promise<{ rules: string | null; settings: SettingsView }>;
  update(actor: Actor, channel: ChannelName, request: SettingsRequest): Promise<SettingsView>;
  acceptRules(actor: Actor, channel: ChannelName): Promise<void>;
  /** Throws unless the user may join or subscribe under the channel's policy. */
  checkAccess(channel: ChannelRow, userId: UserId, isGuest: boolean): Promise<void>;
  /** Throws unless the user may post now (rules accepted, slow mode); moderators are exempt. */
  checkPost(channel: ChannelRow, userId: UserId): Promise<void>;
  /** Unsubscribes this node's listeners the channel's join policy no longer admits. */
  recheckListeners(channelId: number): Promise<void>;
  /**
   * Whether a new message is held for media review: a `files` message from a user below
   * moderator in a channel whose `media_review` is "before" (links in text are not held).
   */
  holdsMedia(channel: ChannelRow, sender: UserId, content: MessageContent): Promise<boolean>;
  /** Remembers a post for slow mode. */
  posted(channel: ChannelRow, userId: UserId, at: number): Promise<void>;
  /**
   * Slow mode binds Matrix users too, after the fact: a post of theirs that came too fast is
   * redacted by the bridge bot (reason "slow mode"). True when it was; otherwise it counts as
   * their latest post.
   */
  enforceOnMatrixPost(
    channel: ChannelRow,
    userId: UserId,
    at: number,
    matrixEventId: MatrixEventId,
  ): Promise<boolean>;
}

const viewOf = (s: ChannelSettings): SettingsView => ({
  slow_mode: s.slowMode,
  rules_required: s.rulesRequired,
  guests: s.guests,
  required_claim: s.requiredClaim,
  media_review: s.mediaReview,
  live: s.live,
});

export interface SettingsDeps {
  readonly log: Logger;
  readonly store: Store;
  readonly channels: Channels;
  readonly roles: Roles;
  readonly matrix: MatrixPort;
  readonly fanout: FanOut;
  readonly naming: Naming;
  readonly memberActions: MemberActions;
  /** Slow mode's memory, shared by every node. */
  readonly posts: PostWindows;
  /** Tells the other nodes to recheck their listeners (recheckListeners there). */
  readonly policyChanged: (channelId: number) => void;
  /** The bot's notices and state in the room, in order with the channel's mirrored actions. */
  readonly roomNotices: Pick<PowerLevelChanges, "say" | "showState">;
}

/**
 * Matrix event content is canonical JSON: integers within 2^53 only, no floats. A number that is
 * not one (a claim value like 1.5) travels as its string there.
 */
export function matrixSafe(value: unknown): unknown {
  if (typeof value === "number") return Number.isSafeInteger(value) ? value : String(value);
  if (Array.isArray(value)) return value.map(matrixSafe);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, matrixSafe(inner)]));
  }
  return value;
}

/** The room state event that holds a channel's settings and rules (docs/protocol.md). */
export const SETTINGS_STATE = "org.parley.settings";

export function createSettings(deps: SettingsDeps): Settings {
  const {
    store,
    channels,
    roles,
    matrix,
    fanout,
    naming,
    log,
    memberActions,
    posts,
    policyChanged,
    roomNotices,
  } = deps;

  const failsPolicy = async (
    settings: ChannelSettings,
    userId: UserId,
    isGuest: boolean,
  ): Promise<string | undefined> => {
    if (!settings.guests && isGuest) return "This channel is for signed-in users only.";
    const claim = settings.requiredClaim;
    const claims = await store.claims(userId);
    if (claim && !(claims && Object.hasOwn(claims, claim.name) && claims[claim.name] === claim.value))
      return "Your login does not give access to this channel.";
    return undefined;
  };

  const isGuest = async (userId: UserId) => (await store.nativeUser(userId))?.isGuest ?? false;

  /** After a policy change, on every node: its listeners who no longer qualify are unsubscribed. */
  const recheckListeners = async (channel: ChannelRow, settings: ChannelSettings) => {
    for (const subscriber of fanout.subscribers(channel.name)) {
      const why = await failsPolicy(settings, subscriber.userId, await isGuest(subscriber.userId));
      if (!why) continue;
      fanout.unsubscribe(channel.name, subscriber);
      fanout.unsubscribe(presenceKey(channel.name), subscriber);
      subscriber.deliver(
        new EncodedFrame(pushFrame("chat.unsubscribed", { channel: channel.name, reason: why })),
      );
    }
  };

  /** After a policy change, once: members who no longer qualify are removed. */
  const recheckMembers = async (channel: ChannelRow, settings: ChannelSettings) => {
    for (const member of await store.joinedMembers(channel.id)) {
      if (!naming.isNativeUser(member.userId)) continue;
      const why = await failsPolicy(settings, member.userId, await isGuest(member.userId));
      if (why) {
        await memberActions.apply(channel, {
          target: member.userId,
          membership: "leave",
          by: naming.botUserId,
          matrixActor: null,
          reason: `join policy: ${why}`,
        });
      }
    }
  };

  /** Remembers a post for slow mode, for one window (only in slow-mode channels). */
  const posted = async (channel: ChannelRow, userId: UserId, at: number) => {
    const slowMode = (await store.settings(channel.id)).slowMode;
    if (slowMode > 0) await posts.recordPost(channel.id, userId, at, slowMode * 1000);
  };

  /**
   * Matrix users see the change too: a notice from the bot naming who changed slow mode or the
   * rules, and the settings as the room's `org.parley.settings` state (docs/protocol.md).
   */
  const showInMatrix = async (
    channel: ChannelRow,
    actor: Actor,
    before: ChannelSettings,
    after: ChannelSettings,
  ) => {
    const who = await nameIn(store, channel, actor.userId);
    if (after.slowMode !== before.slowMode)
      await roomNotices.say(channel, slowModeNotice(who, after.slowMode));
    if (
      after.rules !== before.rules ||
      (after.rules !== null && after.rulesRequired !== before.rulesRequired)
    ) {
      await roomNotices.say(channel, rulesNotice(who, after.rules, after.rulesRequired));
    }
    const view = viewOf(after);
    if (
      JSON.stringify({ ...viewOf(before), rules: before.rules }) !==
      JSON.stringify({ ...view, rules: after.rules })
    ) {
      await roomNotices.showState(
        channel,
        SETTINGS_STATE,
        matrixSafe({ ...view, rules: after.rules }) as Record<string, unknown>,
      );
    }
  };

  return {
    async recheckListeners(channelId) {
      const channel = await store.channelById(channelId);
      if (channel) await recheckListeners(channel, await store.settings(channelId));
    },
    async view(channel) {
      const settings = await store.settings(channel.id);
      return { rules: settings.rules, settings: viewOf(settings) };
    },

    async update(actor, name, request) {
      const channel = await channels.get(name, actor);
      if (!roles.canModerate(channel, actor.userId, actor.admin)) {
        throw new ProtocolError("chat.denied", "Only moderators and owners can change settings.");
      }
      const policyChange = request.guests !== undefined || request.required_claim !== undefined;
      // Who may join, and whether a live event is on, are the owners' to say.
      if (
        (policyChange || request.live !== undefined) &&
        roles.role(channel, actor.userId, actor.admin) !== "owner"
      ) {
        throw new ProtocolError("chat.denied", "Only owners can change who may join, or mark a live event.");
      }
      const before = await store.settings(channel.id);
      const updated = await store.updateSettings(channel.id, {
        ...(request.slow_mode === undefined ? {} : { slowMode: request.slow_mode }),
        ...(request.rules === undefined ? {} : { rules: request.rules }),
        ...(request.rules_required === undefined ? {} : { rulesRequired: request.rules_required }),
        ...(request.guests === undefined ? {} : { guests: request.guests }),
        ...(request.required_claim === undefined ? {} : { requiredClaim: request.required_claim }),
        ...(request.media_review === undefined ? {} : { mediaReview: request.media_review }),
        ...(request.live === undefined ? {} : { live: request.live }),
      });
      fanout.publish(
        channel.name,
        pushFrame("chat.settings", {
          channel: channel.name,
          rules: updated.rules,
          settings: viewOf(updated),
          by: actor.userId,
        }),
      );
      await showInMatrix(channel, actor, before, updated);
      if (policyChange) {
        await recheckListeners(channel, updated);
        policyChanged(channel.id);
        await recheckMembers(channel, updated);
      }
      return viewOf(updated);
    },

    async acceptRules(actor, name) {
      const channel = await channels.get(name, actor);
      await store.acceptRules(channel.id, actor.userId, (await store.settings(channel.id)).rulesVersion);
    },

    async checkAccess(channel, userId, isGuest) {
      const why = await failsPolicy(await store.settings(channel.id), userId, isGuest);
      if (why) throw new ProtocolError("chat.denied", why);
    },

    async checkPost(channel, userId) {
      if (roles.canModerate(channel, userId)) return;
      const settings = await store.settings(channel.id);
      if (
        settings.rulesRequired &&
        settings.rules &&
        (await store.acceptedRulesVersion(channel.id, userId)) !== settings.rulesVersion
      ) {
        throw new ProtocolError(
          "channel.rules_not_accepted",
          "Accept the channel rules (chat.accept_rules) first.",
          {
            rules: settings.rules,
          },
        );
      }
      // Taken now, not when the post is logged: parallel posts (other connections, other nodes)
      // cannot all pass.
      const now = Date.now();
      const last =
        settings.slowMode > 0
          ? await posts.claimPost(channel.id, userId, now, settings.slowMode * 1000)
          : undefined;
      const wait = last === undefined ? 0 : last + settings.slowMode * 1000 - now;
      if (settings.slowMode > 0 && wait > 0) {
        throw new ProtocolError("channel.slow_mode", `Slow mode: one message every ${settings.slowMode} s.`, {
          retry_after: wait,
        });
      }
    },

    async holdsMedia(channel, sender, content) {
      if (content.type !== "files" || roles.canModerate(channel, sender)) return false;
      return (await store.settings(channel.id)).mediaReview === "before";
    },
    posted: (channel, userId, at) => posted(channel, userId, at),
    async enforceOnMatrixPost(channel, userId, at, matrixEventId) {
      const slowMode = (await store.settings(channel.id)).slowMode;
      const last = slowMode > 0 ? await posts.lastPost(channel.id, userId) : undefined;
      const tooFast =
        slowMode > 0 &&
        !roles.canModerate(channel, userId) &&
        last !== undefined &&
        at - last < slowMode * 1000;
      if (!tooFast) {
        await posted(channel, userId, at);
        return false;
      }
      retryWhenRateLimited(() =>
        matrix.redactAsBot(channel.roomId, matrixEventId, `slow mode: one message every ${slowMode} s`),
      ).catch((error: unknown) => log.warn(`could not remove a too-fast message in ${channel.name}`, error));
      return true;
    },
  };
}
