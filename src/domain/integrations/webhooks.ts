// Incoming webhooks (hookshot's model): a channel's owners and moderators make one, get a URL
// with an unguessable secret, and whatever POSTs JSON to it appears in the channel from the
// hook's own user (`hook-<id>`, display name = the hook's name), as an m.notice by default.
import { ProtocolError } from "../../protocol/errors.ts";
import type { ChannelName, UserId } from "../../protocol/ids.ts";
import type { Actor } from "../actor.ts";
import { type Channels, unknownChannel } from "../channels.ts";
import type { Roles } from "../moderation/roles.ts";
import type { Naming } from "../naming.ts";
import { type RateRule, type SharedRateLimiter, takeSharedOrThrow } from "../ports/rate-limit.ts";
import type { Store, WebhookRow } from "../ports/store.ts";
import type { IntegrationPosts } from "./integration-posts.ts";
import { hashSecret, newPublicId, newSecret, secretMatches } from "./secrets.ts";

export interface WebhookView {
  readonly id: string;
  readonly name: string;
  readonly created_by: UserId;
  readonly created_at: number;
}

export interface WebhookPost {
  readonly text: string;
  readonly msgtype: "m.notice" | "m.text";
  readonly username?: string | undefined;
}

export interface Webhooks {
  create(
    actor: Actor,
    channel: ChannelName,
    hook: { readonly name: string; readonly avatar_url?: string | undefined },
  ): Promise<{ id: string; name: string; url: string }>;
  list(actor: Actor, channel: ChannelName): Promise<WebhookView[]>;
  delete(actor: Actor, channel: ChannelName, id: string): Promise<void>;
  /** A POST to a hook's URL; `chat.unknown` for a hook that does not exist (or not any more). */
  post(id: string, secret: string, post: WebhookPost): Promise<{ event_id: number }>;
}

export interface WebhooksDeps {
  readonly store: Store;
  readonly channels: Channels;
  readonly roles: Roles;
  readonly naming: Naming;
  readonly posts: IntegrationPosts;
  readonly rate: { readonly limiter: SharedRateLimiter; readonly rule: RateRule };
  /** The public URL of a hook. */
  readonly urlOf: (id: string, secret: string) => string;
}

const noSuchHook = () => new ProtocolError("chat.unknown", "No such webhook (it may have been deleted).");

export function createWebhooks(deps: WebhooksDeps): Webhooks {
  const { store, channels, roles, naming, posts, rate, urlOf } = deps;
  const userOf = (hook: Pick<WebhookRow, "id">) => naming.nativeUserId(`hook-${hook.id}`);
  /** Owners and moderators of the channel (platform admins too). */
  const moderated = async (actor: Actor, name: ChannelName) => {
    const channel = await channels.get(name, actor);
    // A closed channel takes nothing new, and shows nothing: as if it were not there.
    if (channel.closedAt != null) throw unknownChannel(name);
    if (!roles.canModerate(channel, actor.userId, actor.admin)) {
      throw new ProtocolError("chat.denied", "Only moderators and owners manage a channel's webhooks.");
    }
    return channel;
  };
  const actorOf = (hook: WebhookRow): Actor => ({ userId: userOf(hook), admin: false, isGuest: false });
  return {
    async create(actor, name, { name: hookName, avatar_url }) {
      const channel = await moderated(actor, name);
      const id = newPublicId();
      const secret = newSecret();
      const row: WebhookRow = {
        id,
        channelId: channel.id,
        name: hookName.trim(),
        avatarUrl: avatar_url ?? null,
        secretHash: hashSecret(secret),
        createdBy: actor.userId,
        createdAt: Date.now(),
      };
      // Its user joins first (so the first post is not also its first appearance); the hook
      // exists only once that worked.
      await posts.prepare(userOf(row), row.name, row.avatarUrl);
      await posts.enter(actorOf(row), channel.name);
      await store.insertWebhook(row);
      return { id, name: row.name, url: urlOf(id, secret) };
    },
    async list(actor, name) {
      const channel = await moderated(actor, name);
      return (await store.webhooksOf(channel.id)).map((hook) => ({
        id: hook.id,
        name: hook.name,
        created_by: hook.createdBy,
        created_at: hook.createdAt,
      }));
    },
    async delete(actor, name, id) {
      const channel = await moderated(actor, name);
      if (!(await store.deleteWebhook(channel.id, id, Date.now()))) throw noSuchHook();
    },
    async post(id, secret, post) {
      const hook = await store.webhook(id);
      if (!hook || !secretMatches(hook.secretHash, secret)) throw noSuchHook();
      await takeSharedOrThrow(rate.limiter, `webhook:${hook.id}`, rate.rule, "This webhook posts too fast.");
      const channel = await store.channelById(hook.channelId);
      if (!channel || channel.closedAt != null) throw noSuchHook();
      await posts.prepare(userOf(hook), post.username ?? hook.name, hook.avatarUrl);
      const event = await posts.post(actorOf(hook), {
        channel: channel.name,
        event_type: "channel.message",
        content: { type: post.msgtype === "m.text" ? "text" : "notice", body: post.text },
      });
      return { event_id: event.event_id };
    },
  };
}
