// The composition root: the only module that picks concrete implementations. Tests start Parley
// through it exactly as `parley start` does.
import { createAuthenticator } from "./auth/jwt.ts";
import type { Config } from "./config/load.ts";
import { createActivity } from "./domain/activity.ts";
import { createAdmission } from "./domain/admission.ts";
import { createChannels } from "./domain/channels.ts";
import { createDirect } from "./domain/direct.ts";
import { createEventLog } from "./domain/event-log.ts";
import { createEventPusher } from "./domain/event-pusher.ts";
import { createHistory } from "./domain/history.ts";
import { createInbound } from "./domain/inbound.ts";
import { createMedia } from "./domain/media.ts";
import { createMediaUrls } from "./domain/media-urls.ts";
import { createMembership } from "./domain/membership.ts";
import { createMessages } from "./domain/messages.ts";
import { createAdmin } from "./domain/moderation/admin.ts";
import { createAudiences } from "./domain/moderation/audiences.ts";
import { createGatekeeper } from "./domain/moderation/gatekeeper.ts";
import { createModChannels } from "./domain/moderation/mod-channels.ts";
import { createModeration } from "./domain/moderation/moderation.ts";
import { createRoles } from "./domain/moderation/roles.ts";
import { createSettings } from "./domain/moderation/settings.ts";
import { createNaming } from "./domain/naming.ts";
import { createNotifications } from "./domain/notifications.ts";
import { createPersonalControls } from "./domain/personal-controls.ts";
import type { ChannelRow } from "./domain/ports/store.ts";
import { createReactions } from "./domain/reactions.ts";
import { createReadState, type ReadState } from "./domain/read-state.ts";
import { createTyping } from "./domain/typing.ts";
import { createUsers } from "./domain/users.ts";
import { createLocalFanOut } from "./fanout/local.ts";
import { mediaRoutes } from "./gateway/media-http.ts";
import { clientAddress, startGateway } from "./gateway/server.ts";
import { webRoutes } from "./gateway/web-http.ts";
import { createRouter } from "./handlers/router.ts";
import { createMemoryRateLimiter } from "./limits/memory.ts";
import { createLogger } from "./logging.ts";
import { appserviceHandlers, createAppservice } from "./matrix/appservice.ts";
import { fillGaps } from "./matrix/history.ts";
import { createInbox } from "./matrix/inbox.ts";
import { startListener } from "./matrix/listener.ts";
import { createMatrixAdapter } from "./matrix/matrix-adapter.ts";
import { type Registration, readRegistration } from "./matrix/registration.ts";
import type { ChatEvent } from "./protocol/events.ts";
import { pushFrame } from "./protocol/frames.ts";
import type { UserId } from "./protocol/ids.ts";
import { openSqliteStore } from "./store/sqlite/store.ts";

export interface Parley {
  readonly gatewayPort: number;
  readonly gatewayUrl: string;
  stop(): Promise<void>;
}

const PING_RETRY_MS = [1_000, 2_000, 5_000, 10_000, 30_000];

export async function startParley(config: Config, registration?: Registration): Promise<Parley> {
  const log = createLogger("Parley");
  const reg = registration ?? readRegistration(config.appservice.registrationPath);
  const store = openSqliteStore(config.store.sqlitePath);
  const naming = createNaming({
    serverName: config.homeserver.serverName,
    userPrefix: config.appservice.userPrefix,
    aliasPrefix: config.appservice.aliasPrefix,
    botLocalpart: reg.sender_localpart,
  });

  const appservice = createAppservice(
    { homeserverUrl: config.homeserver.url, serverName: config.homeserver.serverName, registration: reg },
    store,
  );
  const limiter = createMemoryRateLimiter();
  let publicUrl = config.gateway.publicUrl ?? `http://${config.gateway.bind}:${config.gateway.port}`;
  const media = createMediaUrls(() => publicUrl);
  const matrix = createMatrixAdapter(
    appservice,
    { url: config.homeserver.url, serverName: config.homeserver.serverName, accessToken: reg.as_token },
    media,
  );
  const fanout = createLocalFanOut();
  const roles = createRoles(naming);
  const channels = createChannels({
    store,
    matrix,
    naming,
    roles,
    policy: {
      limiter,
      rules: config.limits.channelCreation,
      guestsCreate: config.limits.guestsCreateChannels,
    },
  });
  const activity = createActivity(
    store,
    fanout,
    (userId) => naming.isNativeUser(userId),
    createLogger("Activity"),
  );
  /** A ban, or a kick from a private channel, also ends the user's live subscriptions there. */
  const endSubscriptionsOfRemoved = (channel: ChannelRow, event: ChatEvent) => {
    if (event.event_type !== "channel.member" || event.content.by === undefined) return;
    const { membership, user } = event.content;
    if (membership === "ban" || (membership === "leave" && channel.joinRule !== "public")) {
      const reason = membership === "ban" ? "banned" : "removed from this channel";
      fanout.unsubscribeUser(
        channel.name,
        user.id,
        pushFrame("chat.unsubscribed", { channel: channel.name, reason }),
      );
    }
  };
  const audiences = createAudiences(store, channels, roles);
  const personalControls = createPersonalControls(store, matrix, createLogger("PersonalControls"));
  const hears = (channel: ChannelRow, listener: UserId, event: ChatEvent) =>
    audiences.hears(channel, listener, event) && !personalControls.hides(listener, event);
  const pusher = createEventPusher(
    fanout,
    store,
    { threshold: config.chat.memberBatchThreshold, windowMs: config.chat.memberBatchWindowMs },
    hears,
    createLogger("Pusher"),
  );
  // readState is created below; the publisher reaches it late-bound, on the fan-out path.
  let readState: ReadState | undefined;
  const eventLog = createEventLog(store, (channel, event) => {
    pusher.publish(channel, event);
    readState?.onLogged(channel, event);
    endSubscriptionsOfRemoved(channel, event);
  });
  const users = createUsers({ store, matrix, naming, lookups: { limiter, rule: config.limits.requests } });
  const notifications = createNotifications(store, fanout, users, naming, hears);
  readState = createReadState(
    store,
    channels,
    matrix,
    fanout,
    naming,
    notifications,
    createLogger("ReadState"),
  );
  const moderation = createModeration(store, matrix, channels, roles, fanout, createLogger("Moderation"));
  const settings = createSettings(store, channels, roles, matrix, fanout, naming);
  const gatekeeper = createGatekeeper(store, roles, settings, moderation);
  const membership = createMembership({
    store,
    matrix,
    channels,
    users,
    log: eventLog,
    activity,
    roles,
    gatekeeper,
    joinRate: { limiter, rules: config.limits.joins },
  });
  const messages = createMessages(
    store,
    matrix,
    channels,
    membership,
    eventLog,
    notifications,
    gatekeeper,
    settings,
  );
  const reactions = createReactions(store, matrix, channels, membership, eventLog);
  const typing = createTyping(store, channels, membership, matrix, fanout, naming, createLogger("Typing"));
  const mediaService = createMedia({
    store,
    matrix,
    channels,
    users,
    urls: media,
    limits: config.media,
    serverName: config.homeserver.serverName,
    uploadRate: { limiter, rules: config.limits.uploads },
  });
  const modChannels = createModChannels(store, matrix, channels, roles, membership);
  const direct = createDirect(
    store,
    matrix,
    channels,
    membership,
    personalControls,
    users,
    fanout,
    naming,
    { limiter, rules: config.limits.directCreation },
    createLogger("Direct"),
  );
  const admin = createAdmin(store, matrix, fanout, createLogger("Admin"));
  const history = createHistory(store, channels, users, matrix, eventLog, naming);
  const slowModeLog = createLogger("SlowMode");
  const inbound = createInbound(
    store,
    channels,
    users,
    eventLog,
    naming,
    activity,
    notifications,
    typing,
    settings,
    (channel, eventId) => {
      matrix
        .redactAsBot(
          channel.roomId,
          eventId,
          `slow mode: one message every ${store.settings(channel.id).slowMode} s`,
        )
        .catch((error: unknown) =>
          slowModeLog.warn(`could not remove a too-fast message in ${channel.name}`, error),
        );
    },
  );
  const inbox = createInbox(store, inbound, media, createLogger("Inbox"));
  moderation.resume();

  // Processed inbox rows and sent txn ids are kept a week (replays and late retries), then dropped.
  store.pruneBefore(Date.now() - 7 * 24 * 3600 * 1000);
  // Events recorded before a crash are processed before anything new.
  await inbox.drain();
  const listener = await startListener(
    {
      bind: config.appservice.bind,
      port: config.appservice.port,
      hsToken: reg.hs_token,
      maxBodyBytes: config.appservice.maxTransactionBytes,
    },
    appserviceHandlers({
      inbox,
      inbound,
      channels,
      naming,
      aliasRooms: { limiter, rule: config.limits.aliasRooms },
      log: createLogger("Appservice"),
    }),
    createLogger("Appservice"),
  );
  log.info(`appservice listening on ${config.appservice.bind}:${listener.port}`);
  // Registering the bot fails while the homeserver is down, which must not keep Parley from
  // starting (the ping below retries until it is back; the Matrix port registers it on first use).
  await appservice.botIntent
    .ensureRegistered()
    .catch((error: unknown) => log.warn("bot registration failed; will retry", error));

  // A successful ping makes Synapse deliver its backlog at once instead of after its back-off.
  let stopped = false;
  let pingTimer: NodeJS.Timeout | undefined;
  const ping = (attempt: number) => {
    appservice
      .pingHomeserver()
      .then(async () => {
        log.info("homeserver ping ok");
        await fillGaps(appservice.botClient, store, inbox, createLogger("GapFill"));
      })
      .catch((error: unknown) => {
        if (stopped) return;
        const delay = PING_RETRY_MS[Math.min(attempt, PING_RETRY_MS.length - 1)] ?? 30_000;
        log.warn(
          `homeserver ping failed (${error instanceof Error ? error.message : "error"}); retrying in ${delay} ms`,
        );
        pingTimer = setTimeout(() => ping(attempt + 1), delay);
      });
  };
  ping(0);

  const admission = createAdmission({
    store,
    naming,
    limiter,
    newGuestsPerAddress: config.limits.newGuestsPerAddress,
  });
  const authenticator = createAuthenticator({
    secret: config.auth.jwtSecret,
    guests: config.auth.guests,
    maxTokenLifetimeS: config.auth.maxTokenLifetimeS,
  });
  const router = createRouter(
    {
      authenticator,
      channels,
      admission,
      history,
      readState,
      activity,
      reactions,
      typing,
      media: mediaService,
      moderation,
      direct,
      personalControls,
      settings,
      audiences,
      modChannels,
      admin,
      naming,
      gatekeeper,
      moderationStatus: (userId) => store.userStatus(userId),
      users,
      membership,
      messages,
      fanout,
    },
    {
      limiter,
      requests: config.limits.requests,
      messages: config.limits.messages,
    },
    createLogger("Router"),
  );
  const gateway = await startGateway(
    {
      ...config.gateway,
      connectionsPerAddress: config.limits.connectionsPerAddress,
    },
    {
      router,
      fanout,
      limiter,
      log: createLogger("Gateway"),
      routes: [
        mediaRoutes({
          authenticator,
          users,
          media: mediaService,
          admission,
          addressOf: (req) => clientAddress(req, config.gateway.trustedProxies),
          downloadConcurrency: config.media.downloadConcurrency,
          cacheBytes: config.media.downloadCacheBytes,
          log: createLogger("Media"),
        }),
        ...(config.gateway.webClient ? [webRoutes(config.gateway.path)] : []),
      ],
    },
  );

  if (config.gateway.publicUrl === undefined) publicUrl = `http://${config.gateway.bind}:${gateway.port}`;

  return {
    gatewayPort: gateway.port,
    gatewayUrl: `ws://${config.gateway.bind}:${gateway.port}${config.gateway.path}`,
    async stop() {
      stopped = true;
      clearTimeout(pingTimer);
      await gateway.close();
      pusher.flushAll();
      moderation.stop();
      activity.stop();
      await listener.close();
      await inbox.drain();
      limiter.stop();
      store.close();
    },
  };
}
