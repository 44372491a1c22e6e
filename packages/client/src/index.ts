// @parley/client: a client for Parley's WebSocket chat protocol (see docs/getting-started.md).
export { type BackoffOptions, backoffDelay, DEFAULT_BACKOFF } from "./backoff.ts";
export { Channel, type ChannelEvents, type SendOptions } from "./channel.ts";
export { ChannelStream } from "./channel-stream.ts";
export {
  type ClientEvents,
  type GuestStorage,
  ParleyClient,
  type ParleyClientOptions,
  type UploadedFile,
} from "./client.ts";
export { type Clock, systemClock } from "./clock.ts";
export { type ClientErrorCode, ParleyError, type ParleyErrorCode } from "./errors.ts";
export { CLOSE_CODES, type CloseCodeName, ERROR_CODES, type ErrorCode, reconnectsAfter } from "./protocol.ts";
export type { SocketFactory, SocketLike } from "./socket.ts";
export type * from "./types.ts";
