// How protocol names map onto Matrix ids: native user `alice` is `@chat_alice:server`, channel
// `room_0` is `#chat_room_0:server`. Prefixes are configurable.
import {
  asUserId,
  type ChannelName,
  isChannelName,
  NATIVE_NAME_PATTERN,
  type UserId,
} from "../protocol/ids.ts";

export interface NamingConfig {
  readonly serverName: string;
  readonly userPrefix: string;
  readonly aliasPrefix: string;
  readonly botLocalpart: string;
}

export interface Naming {
  readonly serverName: string;
  readonly botUserId: UserId;
  nativeUserId(localpart: string): UserId;
  /** The native name of a puppet id, or undefined for anyone else (Matrix users, the bot). */
  nativeLocalpart(userId: string): string | undefined;
  isNativeUser(userId: string): boolean;
  aliasLocalpart(channel: ChannelName): string;
  alias(channel: ChannelName): string;
  /** The channel an alias in our namespace stands for, or undefined. */
  channelFromAlias(alias: string): ChannelName | undefined;
}

export function createNaming(config: NamingConfig): Naming {
  const userSuffix = `:${config.serverName}`;
  const nativeLocalpart = (userId: string): string | undefined => {
    const head = `@${config.userPrefix}`;
    if (!userId.startsWith(head) || !userId.endsWith(userSuffix)) return undefined;
    const name = userId.slice(head.length, -userSuffix.length);
    return NATIVE_NAME_PATTERN.test(name) ? name : undefined;
  };
  const aliasLocalpart = (channel: ChannelName) => `${config.aliasPrefix}${channel}`;
  return {
    serverName: config.serverName,
    botUserId: asUserId(`@${config.botLocalpart}${userSuffix}`),
    nativeUserId: (localpart) => asUserId(`@${config.userPrefix}${localpart}${userSuffix}`),
    nativeLocalpart,
    isNativeUser: (userId) => nativeLocalpart(userId) !== undefined,
    aliasLocalpart,
    alias: (channel) => `#${aliasLocalpart(channel)}${userSuffix}`,
    channelFromAlias(alias) {
      const head = `#${config.aliasPrefix}`;
      if (!alias.startsWith(head) || !alias.endsWith(userSuffix)) return undefined;
      const name = alias.slice(head.length, -userSuffix.length);
      return isChannelName(name) ? name : undefined;
    },
  };
}
