// Tests act as heavy users (one user creating dozens of channels in seconds), far beyond what the
// default limits allow a person; they run with these instead. The limits themselves are tested
// with their defaults or with small explicit values (test/e2e/limits.test.ts).
const generous = { burst: 100_000, per_minute: 1_000_000 };

export const TEST_LIMITS = {
  messages: generous,
  requests: generous,
  joins: generous,
  channel_creation: generous,
  direct_creation: generous,
  uploads: generous,
  connections_per_address: generous,
  alias_rooms: generous,
  per_address: {
    joins: generous,
    channel_creation: generous,
    direct_creation: generous,
    new_guests: generous,
  },
} as const;
