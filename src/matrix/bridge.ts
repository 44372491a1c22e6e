// Phase two of the composition root: the Matrix side running. In order: old inbox rows are
// pruned and what arrived before a crash is processed; the appservice listener opens; the bot is
// registered; then Parley pings the homeserver (which makes Synapse deliver its backlog at once)
// with back-off until it answers, and fills gaps Synapse left. `stop()` undoes it in reverse.
import type { Appservice } from "@vector-im/matrix-bot-sdk";
import type { Config } from "../config/load.ts";
import type { Channels } from "../domain/channels.ts";
import type { Inbound } from "../domain/inbound.ts";
import type { MediaUrls } from "../domain/media-urls.ts";
import type { Naming } from "../domain/naming.ts";
import type { ClusterBus } from "../domain/ports/bus.ts";
import type { RateLimiter } from "../domain/ports/rate-limit.ts";
import type { Store } from "../domain/ports/store.ts";
import type { Users } from "../domain/users.ts";
import type { Logger } from "../logging.ts";
import { appserviceHandlers } from "./appservice.ts";
import { fillGaps } from "./history.ts";
import { createInbox } from "./inbox.ts";
import { startListener } from "./listener.ts";
import type { Registration } from "./registration.ts";
import { createRoomReader } from "./room-readers.ts";

/** Waits between pings while the homeserver does not answer. */
const PING_RETRY_MS = [1_000, 2_000, 5_000, 10_000, 30_000];
/** Processed inbox rows and sent txn ids are kept this long (replays and late retries). */
const KEEP_PROCESSED_MS = 7 * 24 * 3600 * 1000;

export interface MatrixSide {
  stop(): Promise<void>;
}

export interface MatrixSideDeps {
  readonly config: Config;
  readonly registration: Registration;
  readonly store: Store;
  readonly appservice: Appservice;
  readonly domain: {
    readonly inbound: Inbound;
    readonly channels: Channels;
    readonly naming: Naming;
    readonly users: Users;
  };
  readonly limiter: RateLimiter;
  readonly mediaUrls: MediaUrls;
  /** The other nodes, if any: the inbox is processed by one node at a time. */
  readonly bus?: ClusterBus;
  readonly logger: (module: string) => Logger;
}

/** How often each node offers to process the inbox (the lease decides who does). */
const INBOX_TICK_MS = 2_000;

export async function startMatrixSide(deps: MatrixSideDeps): Promise<MatrixSide> {
  const { config, registration, store, appservice, domain, limiter, mediaUrls, logger } = deps;
  const log = logger("Parley");
  const bus = deps.bus;
  const inbox = createInbox(
    store,
    domain.inbound,
    mediaUrls,
    logger("Inbox"),
    bus && { nodeId: bus.nodeId, recorded: () => bus.notify({ kind: "inbox-recorded" }) },
  );
  bus?.onNotice((notice) => {
    if (notice.kind === "inbox-recorded") inbox.drainSoon();
  });

  await store.pruneBefore(Date.now() - KEEP_PROCESSED_MS);
  // Events recorded before a crash are processed before anything new.
  await inbox.drain();
  const listener = await startListener(
    {
      bind: config.appservice.bind,
      port: config.appservice.port,
      hsToken: registration.hs_token,
      maxBodyBytes: config.appservice.maxTransactionBytes,
    },
    appserviceHandlers({
      inbox,
      inbound: domain.inbound,
      channels: domain.channels,
      naming: domain.naming,
      aliasRooms: { limiter, rule: config.limits.aliasRooms },
      users: domain.users,
      protocol: registration.id,
      log: logger("Appservice"),
    }),
    logger("Appservice"),
  );
  log.info(`appservice listening on ${config.appservice.bind}:${listener.port}`);
  // Registering the bot fails while the homeserver is down, which must not keep Parley from
  // starting (the ping below retries until it is back; the Matrix port registers it on first use).
  await appservice.botIntent
    .ensureRegistered()
    .catch((error: unknown) => log.warn("bot registration failed; will retry", error));

  let stopped = false;
  let pingTimer: NodeJS.Timeout | undefined;
  const ping = (attempt: number) => {
    appservice
      .pingHomeserver()
      .then(async () => {
        log.info("homeserver ping ok");
        const reader = createRoomReader(store, (userId) => domain.naming.isNativeUser(userId));
        await fillGaps(
          async (channel) => [
            appservice.botClient,
            ...(await reader(channel.roomId)).map(
              (member) => appservice.getIntentForUserId(member).underlyingClient,
            ),
          ],
          store,
          inbox,
          logger("GapFill"),
        );
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
  // Another node may have recorded events and died before processing them, or held the lease.
  const inboxTimer = bus ? setInterval(() => inbox.drainSoon(), INBOX_TICK_MS) : undefined;
  inboxTimer?.unref();

  return {
    async stop() {
      stopped = true;
      clearTimeout(pingTimer);
      clearInterval(inboxTimer);
      await listener.close();
      await inbox.drain();
    },
  };
}
