// Privacy checks shared by the tests of direct and moderators' channels: to someone outside them,
// such a channel must look exactly like one that does not exist, whatever they try.
import { expect } from "vitest";
import { ACTION_NAMES } from "../../src/handlers/router.ts";
import type { TestClient } from "./client.ts";

/** A valid payload naming `channel` for every action that takes one. */
export function channelPayloads(channel: string, user: string): Record<string, Record<string, unknown>> {
  const text = { event_type: "channel.message", content: { type: "text", body: "hello?" } };
  return {
    "chat.join": { channel },
    "chat.leave": { channel },
    "chat.subscribe": { channel },
    "chat.unsubscribe": { channel },
    "chat.send": { channel, ...text },
    "chat.react": { channel, event: 1, reaction: "👍" },
    "chat.typing": { channel, typing: true },
    "chat.fetch": { channel },
    "chat.mark_read": { channel, id: 1 },
    "chat.members": { channel },
    "chat.media": { channel },
    "chat.media.mark": { channel, event: 1, nsfw: true },
    "chat.kick": { channel, user },
    "chat.ban": { channel, user },
    "chat.unban": { channel, user },
    "chat.timeout": { channel, user, duration: 120 },
    "chat.untimeout": { channel, user },
    "chat.set_role": { channel, user, role: "moderator" },
    "chat.settings": { channel, slow_mode: 5 },
    "chat.accept_rules": { channel },
    "chat.set_audience": { channel, user, audience: "vip" },
    "chat.mod_channel": { channel },
    "chat.webhook.create": { channel, name: "Hook" },
    "chat.webhook.list": { channel },
    "chat.webhook.delete": { channel, id: "0123456789ab" },
  };
}

/** Every action naming `hidden` answers like one naming `missing` (names aside), and changes nothing. */
export async function expectLooksMissing(client: TestClient, hidden: string, missing: string, user: string) {
  const actions = Object.keys(channelPayloads(hidden, user));
  // Every action that takes a channel is covered: a new one must be added above.
  // (chat.directory names none: test/middle/directory.test.ts checks private ones never show.)
  const taking = ACTION_NAMES.filter(
    (a) => a.startsWith("chat.") && a !== "chat.direct.create" && a !== "chat.directory",
  );
  expect(actions.sort()).toEqual([...taking].sort());
  for (const action of actions) {
    const existing = await client.request(action, channelPayloads(hidden, user)[action] ?? {});
    const absent = await client.request(action, channelPayloads(missing, user)[action] ?? {});
    const shown = (reply: typeof existing, name: string) =>
      JSON.stringify(reply.ok ? reply.result : reply.error).replaceAll(name, "<channel>");
    expect(shown(existing, hidden), action).toBe(shown(absent, missing));
  }
}
