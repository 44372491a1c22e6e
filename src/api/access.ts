// Who the API acts as, and what a key may read.
import type { Actor } from "../domain/actor.ts";
import { unknownChannel } from "../domain/channels.ts";
import type { ChannelRow } from "../domain/ports/store.ts";
import { ProtocolError } from "../protocol/errors.ts";
import { asUserId, type ChannelName, type UserId } from "../protocol/ids.ts";
import type { ApiCaller } from "./define.ts";
import type { ApiServices } from "./services.ts";

/** A user path parameter as a user id: a native user's bare name is theirs. */
export const userIdOf = (services: ApiServices, raw: string): UserId =>
  raw.startsWith("@") ? asUserId(raw) : services.naming.nativeUserId(raw);

/** The caller, for operations that always have one. */
export function callerOf(caller: ApiCaller | undefined): ApiCaller {
  if (!caller) throw new ProtocolError("api.unauthorized");
  return caller;
}

/** The key's integration, acting as a platform admin (admin keys) or as itself. */
export const actorOf = (caller: ApiCaller | undefined): Actor => callerOf(caller).actor;

/**
 * A channel the caller may read: admin keys any; other keys public channels and those their
 * integration is in. Anything else looks missing, like a channel that does not exist.
 */
export async function readableChannel(
  services: ApiServices,
  caller: ApiCaller | undefined,
  name: ChannelName,
  options: { readonly closedToo?: boolean } = {},
): Promise<ChannelRow> {
  const { actor } = callerOf(caller);
  const channel = options.closedToo
    ? await services.platformChannels.find(name)
    : await services.platformChannels.open(name);
  if (actor.admin || channel.joinRule === "public") return channel;
  if (await services.membership.isJoined(actor.userId, channel)) return channel;
  throw unknownChannel(name);
}
