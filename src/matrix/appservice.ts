// The appservice endpoint (matrix-bot-sdk's Appservice): transactions go into the durable inbox
// before Synapse gets its 200; alias queries for `#chat_*` create the channel's room on demand.
import {
  Appservice,
  type IAppserviceRegistration,
  type IAppserviceStorageProvider,
} from "@vector-im/matrix-bot-sdk";
import { type Channels, isReservedName } from "../domain/channels.ts";
import type { Inbound } from "../domain/inbound.ts";
import type { Naming } from "../domain/naming.ts";
import type { Store } from "../domain/store-port.ts";
import type { Logger } from "../logging.ts";
import { asRoomId } from "../protocol/ids.ts";
import { activeUsersOf, typingOf } from "./ephemeral.ts";
import type { Inbox } from "./inbox.ts";
import type { Registration } from "./registration.ts";
import { roomCreationOptions } from "./rooms.ts";

export interface AppserviceOptions {
  readonly homeserverUrl: string;
  readonly serverName: string;
  readonly bind: string;
  readonly port: number;
  readonly registration: Registration;
}

/**
 * Transactions are never "completed" by txnId: Synapse restarts its txnIds at 1 after a restart, so
 * deduplication happens per event in the inbox. Registered puppets are remembered in the store.
 */
function storageProvider(store: Store): IAppserviceStorageProvider {
  return {
    addRegisteredUser: (userId) => store.addRegisteredPuppet(userId),
    isUserRegistered: (userId) => store.isPuppetRegistered(userId),
    setTransactionCompleted: () => undefined,
    isTransactionCompleted: () => false,
  };
}

export function createAppservice(options: AppserviceOptions, store: Store): Appservice {
  return new Appservice({
    homeserverUrl: options.homeserverUrl,
    homeserverName: options.serverName,
    bindAddress: options.bind,
    port: options.port,
    registration: options.registration as unknown as IAppserviceRegistration,
    storage: storageProvider(store),
    intentOptions: { encryption: false },
  });
}

type AliasAnswer = (result: false | Record<string, unknown>) => Promise<void>;

export function wireAppservice(
  appservice: Appservice,
  deps: { inbox: Inbox; inbound: Inbound; channels: Channels; naming: Naming; log: Logger },
): void {
  const { inbox, inbound, channels, naming, log } = deps;
  // Runs synchronously inside the bot-sdk's transaction handler: the 200 goes out only after this
  // returned for every event, and a throw here makes it answer 500 so Synapse retries.
  appservice.on("room.event", (_roomId: string, event: unknown) => {
    inbox.record([event]);
    void inbox.drain();
  });

  // Both ephemeral keys deliver the same EDUs; counting a user twice as active is harmless.
  appservice.on("ephemeral.event", (edu: unknown) => {
    inbound.activeUsers(activeUsersOf(edu), Date.now());
    const typing = typingOf(edu);
    if (typing) inbound.typing(typing.roomId, typing.userIds);
  });

  appservice.on("query.room", (alias: string, answer: AliasAnswer) => {
    const name = naming.channelFromAlias(alias);
    if (!name || channels.find(name) || isReservedName(name)) {
      void answer(false);
      return;
    }
    const options: Record<string, unknown> = roomCreationOptions(name);
    answer(options)
      .then(() => {
        const roomId = options.__roomId;
        if (typeof roomId === "string") channels.adopt(name, asRoomId(roomId));
        log.info(`created ${alias} (${String(roomId)}) for a Matrix user`);
      })
      .catch((error: unknown) => log.error(`creating ${alias} for an alias query failed`, error));
  });

  appservice.on("query.user", (_userId: string, answer: AliasAnswer) => {
    // Puppets exist only once a native user acts; nobody else is conjured up.
    void answer(false);
  });
}
