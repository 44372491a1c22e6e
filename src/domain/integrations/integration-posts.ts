// Posting as an integration (an API key's user, a webhook's user): the same path as a native
// send (same checks, same log, same outbox), after making sure the integration's user exists
// under its current name, is in the channel and has accepted its rules.
import { ProtocolError } from "../../protocol/errors.ts";
import type { ChatEvent } from "../../protocol/events.ts";
import type { ChannelName, UserId } from "../../protocol/ids.ts";
import type { Actor } from "../actor.ts";
import type { Membership } from "../membership.ts";
import { parseMessageContent } from "../message-content.ts";
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
  /**
   * Posts as the integration, joining it first where it is not in yet; with `enter: false` (a native
   * user the platform posts as) the actor must be a member already, as for their own send.
   */
  post(actor: Actor, request: SendRequest, options?: { readonly enter?: boolean }): Promise<ChatEvent>;
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
    async post(actor, request, options = {}) {
      if (options.enter === false) return messages.send(actor, request);
      // What would refuse the post whoever sent it is checked before the integration joins: a
      // refused post must not leave it a member.
      if (request.event_type !== "channel.message") {
        throw new ProtocolError(
          "chat.unsupported_event_type",
          `Cannot send events of type ${request.event_type}.`,
        );
      }
      const content = parseMessageContent(request.content);
      if (content.type === "deleted") {
        throw new ProtocolError("chat.unsupported_content_type", "An integration posts; it does not delete.");
      }
      const channel = await membership.find(request.channel);
      // Checked before joining: a refused post leaves no membership behind.
      if (channel && request.reply_to !== undefined) {
        await messages.visibleMessage(channel, actor, request.reply_to, "reply_to");
      }
      await enter(actor, request.channel);
      return messages.send(actor, request);
    },
  };
}
