// How Parley creates a channel's room. Both paths use it: a native user's first join, and a Matrix
// user asking the homeserver for an alias nobody has created yet.
export function roomCreationOptions(
  name: string,
  visibility: "public" | "private" = "public",
  owner?: string,
): Record<string, unknown> {
  return {
    preset: visibility === "public" ? "public_chat" : "private_chat",
    visibility: "private",
    name,
    initial_state: [
      // Subscribers read back what was said before they came.
      { type: "m.room.history_visibility", state_key: "", content: { history_visibility: "shared" } },
    ],
    // The bot creates the room, so it holds the top power level (room v12 makes creators
    // all-powerful and forbids listing them in `users`). Whoever brought the channel into being
    // owns it from the first event on: no second write that could fail in between.
    power_level_content_override: {
      ...(owner === undefined ? {} : { users: { [owner]: 100 } }),
      users_default: 0,
      events_default: 0,
      state_default: 50,
      ban: 50,
      kick: 50,
      redact: 50,
      invite: 0,
    },
  };
}
