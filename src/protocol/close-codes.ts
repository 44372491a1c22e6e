// WebSocket close codes Parley sends. 1xxx are the standard ones; 4xxx are ours. A client should
// reconnect after any of them except where `reconnect` is false.
export const CLOSE_CODES = {
  goingAway: { code: 1001, reason: "server shutting down", reconnect: true },
  messageTooBig: { code: 1009, reason: "message too big", reconnect: true },
  internalError: { code: 1011, reason: "internal error", reconnect: true },
  authTimeout: { code: 4001, reason: "no authenticate frame in time", reconnect: true },
  slowConsumer: { code: 4008, reason: "send buffer full: the client is not reading", reconnect: true },
  replaced: {
    code: 4009,
    reason: "replaced: the user opened more connections than allowed; this, the oldest, made way",
    reconnect: false,
  },
} as const satisfies Record<string, { code: number; reason: string; reconnect: boolean }>;

export type CloseCodeName = keyof typeof CLOSE_CODES;
