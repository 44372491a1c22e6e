// Branded identifiers: past the wire boundary a channel name, a Matrix user id, a room id and a
// per-channel event sequence number cannot be mixed up by accident.
declare const brand: unique symbol;
type Brand<T, B extends string> = T & { readonly [brand]: B };

/** A channel's wire name, e.g. `room_0`: 1-64 of `[A-Za-z0-9._=-]`. */
export type ChannelName = Brand<string, "ChannelName">;
/** A Matrix user id; native users are puppets like `@chat_alice:server`. */
export type UserId = Brand<string, "UserId">;
/** A Matrix room id, `!opaque:server`. */
export type RoomId = Brand<string, "RoomId">;
/** A Matrix event id, `$opaque`. */
export type MatrixEventId = Brand<string, "MatrixEventId">;
/** The per-channel, increasing integer every client sees as `event_id`. */
export type EventSeq = Brand<number, "EventSeq">;

export const CHANNEL_NAME_PATTERN = /^[A-Za-z0-9._=-]{1,64}$/;
/** Native user names become Matrix localparts, which must be lower case. */
export const NATIVE_NAME_PATTERN = /^[a-z0-9._=-]{1,64}$/;

export const asChannelName = (value: string): ChannelName => value as ChannelName;
export const asUserId = (value: string): UserId => value as UserId;
export const asRoomId = (value: string): RoomId => value as RoomId;
export const asMatrixEventId = (value: string): MatrixEventId => value as MatrixEventId;
export const asEventSeq = (value: number): EventSeq => value as EventSeq;

export function isChannelName(value: string): value is ChannelName {
  return CHANNEL_NAME_PATTERN.test(value);
}
