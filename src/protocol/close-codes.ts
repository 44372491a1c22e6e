// WebSocket close codes Parley sends, with whether a client should reconnect after each: the
// table is in ./wire.ts, shared with the SDK.
export { CLOSE_CODES, type CloseCodeName, reconnectsAfter } from "./wire.ts";
