// Posting as an integration (an API key's user, a webhook's user): the same path as a native
// send (same checks, same log, same outbox), after making sure the integration's user exists
// under its current name, is in the channel and has accepted its rules.
import type { ChatEvent } from "../../protocol/events.ts";
import type { ChannelName, UserId } from "../../protocol/ids.ts";
import type { Actor } from "../actor.ts";
import type { Membership } from "../membership.ts";
import type { Messages, SendRequest } from "../messages.ts";
import type { Settings } from "../moderation/settings.ts";
import type { Naming } from "../naming.ts";
import type { Store } from "../ports/store.ts";
import type { Users } from "../users.ts";

export interface IntegrationPosts {
  /** Brings the integration's user into being (or renames it) as `displayName`. */
  prepare(userId: UserId, displayName: string, avatarUrl?: string | null): Promise<void>;
  /** Joins `actor` to the channel unless it is in already (no join limit: it is the platform's). */
  enter(actor: Actor, channel: ChannelName): Promise<void>;
  post(actor: Actor, request: SendRequest): Promise<ChatEvent>;
}

export function createIntegrationPosts(deps: {
  readonly store: Store;
  readonly users: Users;
  readonly membership: Membership;
  readonly settings: Settings;
  readonly messages: Messages;
  readonly naming: Naming;
}): IntegrationPosts {
  const { store, users, membership, settings, messages, naming } = deps;
  const enter = async (actor: Actor, name: ChannelName) => {
    let channel = await membership.find(name);
    if (!channel || !(await membership.isJoined(actor.userId, channel))) {
      await membership.join(actor, name, { limited: false });
      channel = await membership.find(name);
    }
    if (!channel) return;
    const current = await store.settings(channel.id);
    if (current.rulesRequired && current.rules) await settings.acceptRules(actor, name);
  };
  return {
    async prepare(userId, displayName, avatarUrl) {
      const localpart = naming.nativeLocalpart(userId);
      if (localpart === undefined) throw new Error(`${userId} is not an integration's user`);
      const user = await store.upsertNativeUser({ userId, localpart, isGuest: false });
      const avatar = avatarUrl === undefined ? user.avatarUrl : avatarUrl;
      if (user.displayName !== displayName || user.avatarUrl !== avatar) {
        await users.updateProfile(userId, { display_name: displayName, avatar_url: avatar });
      }
    },
    enter,
    async post(actor, request) {
      await enter(actor, request.channel);
      return messages.send(actor, request);
    },
  };
}
