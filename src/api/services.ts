// What the server API's operations reach: the domain as the platform's backend uses it.
import type { Channels } from "../domain/channels.ts";
import type { History } from "../domain/history.ts";
import type { ApiKeys } from "../domain/integrations/api-keys.ts";
import type { IntegrationPosts } from "../domain/integrations/integration-posts.ts";
import type { PlatformChannels } from "../domain/integrations/platform-channels.ts";
import type { Webhooks } from "../domain/integrations/webhooks.ts";
import type { Membership } from "../domain/membership.ts";
import type { Admin } from "../domain/moderation/admin.ts";
import type { Moderation } from "../domain/moderation/moderation.ts";
import type { Naming } from "../domain/naming.ts";
import type { FanOut } from "../domain/ports/fanout.ts";
import type { Subscriptions } from "../domain/subscriptions/subscriptions.ts";
import type { Users } from "../domain/users.ts";

export interface ApiServices {
  readonly apiKeys: ApiKeys;
  readonly platformChannels: PlatformChannels;
  readonly integrationPosts: IntegrationPosts;
  readonly webhooks: Webhooks;
  readonly channels: Channels;
  readonly membership: Membership;
  readonly history: History;
  readonly moderation: Moderation;
  readonly admin: Admin;
  readonly users: Users;
  readonly fanout: FanOut;
  readonly naming: Naming;
  readonly subscriptions: Subscriptions;
}
