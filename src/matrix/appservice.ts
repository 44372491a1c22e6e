// The appservice: matrix-bot-sdk's Appservice for intents (the bot and the puppets), and our own
// listener (src/matrix/listener.ts) for what Synapse pushes: transactions go into the durable
// inbox before Synapse gets its 200; alias queries for `#chat_*` create the channel's room.
import {
  Appservice,
  type IAppserviceRegistration,
  type IAppserviceStorageProvider,
} from "@vector-im/matrix-bot-sdk";
import { type Channels, isReservedName } from "../domain/channels.ts";
import type { Inbound } from "../domain/inbound.ts";
import type { Naming } from "../domain/naming.ts";
import type { RateLimiter, RateRule } from "../domain/ports/rate-limit.ts";
import type { NativeUserRow, Store } from "../domain/ports/store.ts";
import type { Users } from "../domain/users.ts";
import type { Logger } from "../logging.ts";
import { asUserId } from "../protocol/ids.ts";
import { activeUsersOf, presenceOf, typingOf } from "./ephemeral.ts";
import type { Inbox } from "./inbox.ts";
import type { ListenerHandlers, ThirdPartyUser } from "./listener.ts";
import type { Registration } from "./registration.ts";

export interface AppserviceOptions {
  readonly homeserverUrl: string;
  readonly serverName: string;
  readonly registration: Registration;
}

/**
 * Transactions never reach the bot-sdk (our listener takes them); registered puppets are
 * remembered in the store so a restart does not register them again.
 */
function storageProvider(store: Store): IAppserviceStorageProvider {
  return {
    addRegisteredUser: async (userId) => await store.addRegisteredPuppet(userId),
    isUserRegistered: async (userId) => await store.isPuppetRegistered(userId),
    setTransactionCompleted: () => undefined,
    isTransactionCompleted: () => false,
  };
}

/** The bot-sdk Appservice, used for its intents only: it never listens. */
export function createAppservice(options: AppserviceOptions, store: Store): Appservice {
  return new Appservice({
    homeserverUrl: options.homeserverUrl,
    homeserverName: options.serverName,
    // Never bound: begin() is not called.
    bindAddress: "127.0.0.1",
    port: 0,
    registration: options.registration as unknown as IAppserviceRegistration,
    storage: storageProvider(store),
    intentOptions: { encryption: false },
  });
}

/** At most this many users answer one third-party lookup, for a term of at least so many characters. */
const THIRD_PARTY_RESULTS = 20;
const MIN_LOOKUP_TERM = 3;

/** What Synapse pushes, mapped to the inbox (durable), activity and typing, and channel creation. */
export function appserviceHandlers(deps: {
  inbox: Inbox;
  inbound: Inbound;
  channels: Channels;
  naming: Naming;
  /** Alias queries can come from any server: the rooms they create are limited, all together. */
  aliasRooms: { limiter: RateLimiter; rule: RateRule };
  /** Native users, for user queries and the third-party lookup. */
  users: Pick<Users, "native" | "preparePuppet" | "search">;
  /** The third-party protocol's id (the registration's `protocols`). */
  protocol: string;
  log: Logger;
}): ListenerHandlers {
  const { inbox, inbound, channels, naming, aliasRooms, users, protocol, log } = deps;
  const asThirdParty = (user: NativeUserRow): ThirdPartyUser => ({
    userid: user.userId,
    protocol,
    fields: { name: user.displayName ?? user.localpart, username: user.localpart },
  });
  return {
    async userQuery(userId) {
      const user = naming.isNativeUser(userId) ? await users.native(asUserId(userId)) : undefined;
      if (!user || user.isGuest) return false;
      // Registered under their name now: the homeserver then shows their profile.
      await users.preparePuppet(user.userId);
      return true;
    },
    async thirdPartyUsers(asked, fields) {
      if (asked !== protocol) return [];
      const term = (fields.name ?? fields.username ?? fields.search ?? "").trim();
      // A few letters at least: the lookup answers any local account, so it is no way to list
      // everyone letter by letter.
      if (term.length < MIN_LOOKUP_TERM || term.length > 100) return [];
      return (await users.search(term, THIRD_PARTY_RESULTS)).map(asThirdParty);
    },
    async thirdPartyUser(userId) {
      const user = naming.isNativeUser(userId) ? await users.native(asUserId(userId)) : undefined;
      return user && !user.isGuest ? [asThirdParty(user)] : [];
    },
    thirdPartyProtocol: (asked) =>
      asked !== protocol
        ? undefined
        : {
            user_fields: ["name"],
            location_fields: [],
            icon: "",
            field_types: { name: { regexp: ".+", placeholder: "Alice" } },
            instances: [
              {
                network_id: protocol,
                desc: "Parley",
                fields: {},
                icon: "",
              },
            ],
          },
    async events(events) {
      await inbox.record(events);
      inbox.drainSoon();
    },
    async ephemeral(edus) {
      // Both ephemeral keys deliver the same EDUs; the listener reads one of them.
      const now = Date.now();
      for (const edu of edus) {
        inbound.activeUsers(activeUsersOf(edu), now);
        const typing = typingOf(edu);
        if (typing) await inbound.typing(typing.roomId, typing.userIds);
        const presence = presenceOf(edu);
        if (presence) await inbound.presence(presence.userId, presence.presence);
      }
    },
    async aliasQuery(alias) {
      const name = naming.channelFromAlias(alias);
      if (!name || isReservedName(name)) return false;
      if (await channels.find(name)) return false;
      if (!aliasRooms.limiter.take("alias-rooms", aliasRooms.rule).ok) {
        log.warn(`not creating ${alias} for an alias query: too many lately`);
        return false;
      }
      try {
        // Any server can look an alias up: such rooms stay out of the room directory.
        await channels.ensureNoting(name, "public", undefined, { listed: false });
        log.info(`created ${alias} for a Matrix user`);
        return true;
      } catch (error) {
        log.warn(`creating ${alias} for an alias query failed`, error);
        return false;
      }
    },
  };
}
