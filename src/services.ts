// Phase one of the composition root: the domain wired together. Pure wiring: synchronous, no I/O,
// no timers (those start with `background.start()`). The Matrix side (src/matrix/bridge.ts) and
// the gateway (src/gateway/server.ts) are started on top of it by src/app.ts; the middle test tier
// uses it with a fake Matrix port and no homeserver at all.
import { createAuthenticator } from "./auth/jwt.ts";
import type { Config } from "./config/load.ts";
import { createActivity } from "./domain/activity.ts";
import { createAdmission } from "./domain/admission.ts";
import { createChannels } from "./domain/channels.ts";
import { createDirect } from "./domain/direct.ts";
import { createDirectory } from "./domain/directory.ts";
import { createEventLog, toChatEvent } from "./domain/event-log.ts";
import { createEventPusher } from "./domain/event-pusher.ts";
import { createEventStream } from "./domain/event-stream.ts";
import { createHearing } from "./domain/hearing.ts";
import { createHistory } from "./domain/history.ts";
import { createInbound, type Inbound } from "./domain/inbound.ts";
import { type ApiKeys, createApiKeys } from "./domain/integrations/api-keys.ts";
import { createIntegrationPosts, type IntegrationPosts } from "./domain/integrations/integration-posts.ts";
import { createPlatformChannels, type PlatformChannels } from "./domain/integrations/platform-channels.ts";
import { createWebhooks } from "./domain/integrations/webhooks.ts";
import { createMedia } from "./domain/media.ts";
import type { MediaUrls } from "./domain/media-urls.ts";
import { createMembership } from "./domain/membership.ts";
import { createMessages } from "./domain/messages.ts";
import { createAdmin } from "./domain/moderation/admin.ts";
import { createAudiences } from "./domain/moderation/audiences.ts";
import { createGatekeeper } from "./domain/moderation/gatekeeper.ts";
import { createMediaReview } from "./domain/moderation/media-review.ts";
import { createMemberActions } from "./domain/moderation/member-actions.ts";
import { createModChannels } from "./domain/moderation/mod-channels.ts";
import { createModeration } from "./domain/moderation/moderation.ts";
import { createPowerLevelChanges } from "./domain/moderation/power-level-changes.ts";
import { createRoles } from "./domain/moderation/roles.ts";
import { createSettings } from "./domain/moderation/settings.ts";
import type { Naming } from "./domain/naming.ts";
import { createNotifications } from "./domain/notifications.ts";
import { createOutbox, type Outbox, type Withdraw } from "./domain/outbox.ts";
import { createPersonalControls } from "./domain/personal-controls.ts";
import type { ClusterBus } from "./domain/ports/bus.ts";
import type { FanOut } from "./domain/ports/fanout.ts";
import type { Images } from "./domain/ports/images.ts";
import type { MatrixPort } from "./domain/ports/matrix.ts";
import { type RateLimiter, type SharedRateLimiter, sharedFrom } from "./domain/ports/rate-limit.ts";
import type { SharedState } from "./domain/ports/shared-state.ts";
import type { Store } from "./domain/ports/store.ts";
import type { SubscriberClient } from "./domain/ports/subscriber.ts";
import { createPresence } from "./domain/presence.ts";
import { withPresenceMirror } from "./domain/presence-mirror.ts";
import { createReactions } from "./domain/reactions.ts";
import { createReadState } from "./domain/read-state.ts";
import { endSubscriptionsOfRemoved } from "./domain/removals.ts";
import { createSubscriptions, type Subscriptions } from "./domain/subscriptions/subscriptions.ts";
import { createTyping } from "./domain/typing.ts";
import { createUsers } from "./domain/users.ts";
import { createWithdrawal } from "./domain/withdrawal.ts";
import { createLocalBus } from "./fanout/local-bus.ts";
import type { Services } from "./handlers/context.ts";
import { createSharpImages } from "./images/sharp.ts";
import type { Logger } from "./logging.ts";
import { createSubscriberClient } from "./outgoing/subscriber-client.ts";
import { asEventSeq } from "./protocol/ids.ts";
import { createMemorySharedState } from "./shared-state/memory.ts";

export interface ServiceDeps {
  readonly config: Config;
  readonly store: Store;
  readonly matrix: MatrixPort;
  readonly fanout: FanOut;
  /** What nodes tell each other; by default nobody (one node). */
  readonly bus?: ClusterBus;
  /** Slow-mode windows and typing; by default in this process (one node). */
  readonly shared?: SharedState;
  /** This node's own budgets. */
  readonly limiter: RateLimiter;
  /** What a user may do in the whole installation; by default this node's buckets (one node). */
  readonly sharedLimiter?: SharedRateLimiter;
  readonly naming: Naming;
  readonly mediaUrls: MediaUrls;
  /** Reads images' pixel sizes and makes thumbnails; by default with sharp. */
  readonly images?: Images;
  /** How clients reach this server over HTTP (webhook URLs); read on each use. */
  readonly publicUrl?: () => string;
  readonly logger: (module: string) => Logger;
  /** How event subscriptions' deliveries are POSTed; by default with fetch. */
  readonly subscriber?: SubscriberClient;
}

/** What handlers reach (src/handlers/context.ts), and what the Matrix side feeds. */
export interface ParleyServices extends Services {
  /** Matrix events, parsed, in protocol terms. */
  readonly inbound: Inbound;
  /** Native actions on their way to Matrix. */
  readonly outbox: Outbox;
  /** The server API's keys, and what it does as the platform. */
  readonly apiKeys: ApiKeys;
  readonly platformChannels: PlatformChannels;
  readonly integrationPosts: IntegrationPosts;
  /** Event subscriptions (outgoing webhooks) and their delivery. */
  readonly subscriptions: Subscriptions;
  /** Timers of the domain: seen-time writes, timeout ends, member-event batches, the outbox. */
  readonly background: { start(): Promise<void>; stop(): Promise<void> };
}

export function createServices(deps: ServiceDeps): ParleyServices {
  const { config, store, matrix, fanout, naming, mediaUrls, logger } = deps;
  const limiter = deps.sharedLimiter ?? sharedFrom(deps.limiter);
  const bus = deps.bus ?? createLocalBus();
  const shared = deps.shared ?? createMemorySharedState();
  const limits = config.limits;

  const roles = createRoles(naming);
  const channels = createChannels({
    store,
    matrix,
    naming,
    roles,
    policy: { limiter, rules: limits.channelCreation, guestsCreate: limits.guestsCreateChannels },
    directory: { publish: config.appservice.publishChannels, log: logger("Directory") },
  });
  const activity = createActivity(store, fanout, (userId) => naming.isNativeUser(userId), logger("Activity"));
  const presence = createPresence({
    store,
    activity,
    fanout,
    isNative: (userId) => naming.isNativeUser(userId),
    log: logger("Presence"),
  });
  const audiences = createAudiences(store, channels, roles, (channelId) =>
    bus.notify({ kind: "audiences-changed", channelId }),
  );
  const personalControls = createPersonalControls(store, matrix, logger("PersonalControls"), (userId) =>
    bus.notify({ kind: "ignores-changed", userId }),
  );
  const hearing = createHearing({ audiences, personalControls, roles, store });
  const users = createUsers({
    store,
    matrix,
    naming,
    lookups: { limiter, rule: limits.requests },
    log: logger("Users"),
  });
  // The outbox withdraws what the homeserver refuses through the log, which queues into the outbox.
  let withdraw: Withdraw = async () => undefined;
  const outbox = createOutbox({
    store,
    matrix,
    fanout,
    naming,
    preparePuppet: async (userId) => {
      await users.ensureNative(userId);
      await users.preparePuppet(userId);
    },
    profileOf: async (userId) => {
      const user = await users.native(userId);
      return user && { display_name: user.displayName, avatar_url: user.avatarUrl };
    },
    withdraw: (channel, entry, why) => withdraw(channel, entry, why),
    concurrency: config.outbox.concurrency,
    retryDelaysMs: config.outbox.retryDelaysMs,
    nodeId: bus.nodeId,
    queued: (channelId) => bus.notify({ kind: "outbox-queued", channelId }),
    log: logger("Outbox"),
  });
  const notifications = createNotifications({ store, fanout, users, naming, hearing });
  const readState = createReadState({
    store,
    channels,
    matrix,
    fanout,
    naming,
    notifications,
    log: logger("ReadState"),
    mirrors: outbox,
  });
  const pusher = createEventPusher({
    fanout,
    store,
    batching: { threshold: config.chat.memberBatchThreshold, windowMs: config.chat.memberBatchWindowMs },
    hearing,
    log: logger("Pusher"),
    // A removal ends the removed user's subscriptions once they have been told.
    afterPush: endSubscriptionsOfRemoved(fanout),
  });
  const subscriptions = createSubscriptions({
    store,
    client: deps.subscriber ?? createSubscriberClient(),
    settings: config.subscriptions,
    nodeId: bus.nodeId,
    changed: () => bus.notify({ kind: "subscriptions-changed" }),
    log: logger("Subscriptions"),
  });
  // Every newly logged event, from this node or another, in event_id order per channel: pushed to
  // this node's subscribers, counted unread for its users, and a removal ends their subscriptions;
  // event subscriptions are woken (if this node delivers them).
  const stream = createEventStream({
    store,
    deliver: (channel, event) => {
      pusher.publish(channel, event);
      readState.onLogged(channel, event);
      subscriptions.wake(channel.id);
    },
    log: logger("EventStream"),
  });
  const eventLog = createEventLog(
    store,
    (channel, event) => {
      stream.received(channel, event);
      bus.publishEvent(channel.id, event);
    },
    outbox,
  );
  const eventsLog = logger("Cluster");
  bus.onEvent((channelId, event) => stream.receivedElsewhere(channelId, event));
  bus.onResubscribed(() => {
    stream
      .catchUp()
      .catch((error: unknown) => eventsLog.warn("catching up after the bus came back failed", error));
    // Notices said while the bus was away are lost: what they would have dropped is dropped now.
    audiences.forgetAll();
    personalControls.forgetAllIgnorers();
  });
  withdraw = createWithdrawal({ store, eventLog, log: logger("Outbox") });
  const powerLevels = createPowerLevelChanges(store, outbox);
  const memberActions = createMemberActions({ store, eventLog, naming });
  const moderation = createModeration({
    store,
    channels,
    roles,
    fanout,
    memberActions,
    powerLevels,
    log: logger("Moderation"),
  });
  const settings = createSettings({
    store,
    channels,
    roles,
    matrix,
    fanout,
    naming,
    memberActions,
    posts: shared.posts,
    policyChanged: (channelId) => bus.notify({ kind: "policy-changed", channelId }),
    roomNotices: powerLevels,
    log: logger("Settings"),
  });
  const gatekeeper = createGatekeeper(store, roles, settings, moderation);
  /** Another node changed a logged event: read as it is now, pushed to this node's listeners. */
  const pushUpdateHere = async (channelId: number, seq: number) => {
    const channel = await store.channelById(channelId);
    const event = channel && (await store.eventBySeq(channelId, asEventSeq(seq)));
    if (channel && event) pusher.update(channel, toChatEvent(channel, event));
  };
  const mediaReview = createMediaReview({
    store,
    channels,
    roles,
    naming,
    mirrors: outbox,
    updated: (channel, event) => {
      pusher.update(channel, event);
      bus.notify({ kind: "event-updated", channelId: channel.id, seq: event.event_id });
    },
  });
  bus.onNotice((notice) => {
    switch (notice.kind) {
      case "policy-changed":
        settings
          .recheckListeners(notice.channelId)
          .catch((error: unknown) =>
            eventsLog.warn(`rechecking listeners of ${notice.channelId} failed`, error),
          );
        return;
      case "audiences-changed":
        audiences.forget(notice.channelId);
        return;
      case "ignores-changed":
        personalControls.forgetIgnorersOf(notice.userId);
        return;
      case "outbox-queued":
        outbox.wakeFromOtherNode(notice.channelId);
        return;
      case "inbox-recorded":
        return; // the Matrix side listens for it
      case "subscriptions-changed":
        subscriptions.changedElsewhere();
        return;
      case "event-updated":
        pushUpdateHere(notice.channelId, notice.seq).catch((error: unknown) =>
          eventsLog.warn(`pushing an update of ${notice.channelId}/${notice.seq} failed`, error),
        );
        return;
    }
  });
  const membership = createMembership({
    store,
    channels,
    users,
    eventLog,
    activity,
    roles,
    gatekeeper,
    joinRate: { limiter, rules: limits.joins },
    follow: (channel, nextSeq) => stream.follow(channel, nextSeq),
  });
  const media = createMedia({
    store,
    matrix,
    channels,
    users,
    urls: mediaUrls,
    limits: config.media,
    serverName: config.homeserver.serverName,
    uploadRate: { limiter, rules: limits.uploads },
    images: deps.images ?? createSharpImages(),
    hearing,
  });
  const messages = createMessages({
    store,
    channels,
    membership,
    eventLog,
    notifications,
    gatekeeper,
    settings,
    files: media,
    roles,
  });
  const reactions = createReactions({ store, channels, membership, eventLog, roles });
  const typing = createTyping({
    store,
    channels,
    membership,
    matrix,
    fanout,
    naming,
    board: shared.typing,
    log: logger("Typing"),
  });
  const modChannels = createModChannels({ store, matrix, channels, roles, membership });
  const direct = createDirect({
    store,
    matrix,
    channels,
    membership,
    personalControls,
    users,
    fanout,
    naming,
    creation: { limiter, rules: limits.directCreation },
    presence,
    nodeId: bus.nodeId,
    log: logger("Direct"),
  });
  const admin = createAdmin({ store, fanout, memberActions, powerLevels });
  const history = createHistory({
    store,
    channels,
    users,
    matrix,
    eventLog,
    naming,
    hearing,
    ownsMarker: outbox.ownsMarker,
  });
  const inbound = createInbound({
    store,
    channels,
    users,
    eventLog,
    naming,
    activity,
    notifications,
    typing,
    settings,
    powerLevels,
    echoes: outbox,
    fanout,
    invitations: direct,
    presence,
  });

  // What the gateway registers connections with: a native user's puppet shows online meanwhile.
  const connections = withPresenceMirror(fanout, {
    matrix,
    presence,
    preparePuppet: async (userId) => {
      await users.ensureNative(userId);
      await users.preparePuppet(userId);
    },
    isNative: (userId) => naming.isNativeUser(userId),
    graceMs: config.chat.presenceGraceMs,
    refreshMs: config.chat.presenceRefreshMs,
    maxRefreshPerSecond: config.chat.presenceRefreshMaxPerSecond,
    log: logger("Presence"),
  });
  const integrationPosts = createIntegrationPosts({ store, users, membership, settings, messages, naming });
  const publicUrl = deps.publicUrl ?? (() => "http://localhost");
  const webhooks = createWebhooks({
    store,
    channels,
    roles,
    naming,
    posts: integrationPosts,
    rate: { limiter, rule: limits.webhookPosts },
    urlOf: (id, secret) => `${publicUrl().replace(/\/+$/, "")}/hooks/${id}/${secret}`,
  });
  const directory = createDirectory({
    store,
    activity,
    featured: config.chat.featuredChannels,
    refreshMs: config.chat.directoryRefreshMs,
    botUserId: naming.botUserId,
    log: logger("Directory"),
  });
  const platformChannels = createPlatformChannels({
    store,
    channels,
    settings,
    matrix,
    roles,
    activity,
    memberActions,
    naming,
    gatekeeper,
    membership,
    publish: config.appservice.publishChannels,
  });

  return {
    authenticator: createAuthenticator({
      secret: config.auth.jwtSecret,
      guests: config.auth.guests,
      maxTokenLifetimeS: config.auth.maxTokenLifetimeS,
    }),
    admission: createAdmission({ store, naming, limiter, newGuestsPerAddress: limits.newGuestsPerAddress }),
    channels,
    history,
    reactions,
    media,
    moderation,
    direct,
    personalControls,
    settings,
    audiences,
    modChannels,
    mediaReview,
    admin,
    naming,
    gatekeeper,
    moderationStatus: (userId) => store.userStatus(userId),
    typing,
    readState,
    activity,
    users,
    membership,
    messages,
    fanout: connections,
    presence,
    inbound,
    outbox,
    webhooks,
    apiKeys: createApiKeys(store, naming),
    platformChannels,
    directory,
    integrationPosts,
    subscriptions,
    background: {
      async start() {
        activity.start();
        presence.start();
        await moderation.resume();
        await outbox.start();
        await subscriptions.start();
      },
      async stop() {
        await connections.stopPresence();
        presence.stop();
        await subscriptions.stop();
        await outbox.stop();
        await pusher.flushAll();
        moderation.stop();
        stream.stop();
        await activity.stop();
      },
    },
  };
}
