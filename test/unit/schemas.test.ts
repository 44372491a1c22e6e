import { describe, expect, it } from "vitest";
import {
  authenticatePayload,
  channelPayload,
  failingFields,
  sendPayload,
  userFetchPayload,
  userUpdatePayload,
} from "../../src/protocol/schemas.ts";

describe("channel names", () => {
  it.each(["room_0", "a", "A.b-c=d_e", "x".repeat(64)])("accepts %s", (channel) => {
    expect(channelPayload.safeParse({ channel }).success).toBe(true);
  });
  it.each(["", "x".repeat(65), "a b", "a/b", "a:b", "#a", "é", 5, null])("refuses %s", (channel) => {
    const result = channelPayload.safeParse({ channel });
    expect(result.success).toBe(false);
    if (!result.success) expect(failingFields(result.error)).toEqual(["channel"]);
  });
});

describe("payloads", () => {
  it("chat.send needs a channel, an event type and content with a type", () => {
    const ok = sendPayload.safeParse({
      channel: "r",
      event_type: "channel.message",
      content: { type: "text", body: "hi" },
    });
    expect(ok.success).toBe(true);
    const bad = sendPayload.safeParse({ channel: "r", content: { body: "hi" }, txn_id: "" });
    expect(bad.success).toBe(false);
    if (!bad.success)
      expect(failingFields(bad.error).sort()).toEqual(["content.type", "event_type", "txn_id"]);
  });

  it("user.update wants a non-blank display name and an mxc avatar", () => {
    expect(userUpdatePayload.safeParse({ profile: { display_name: "Alice" } }).success).toBe(true);
    expect(userUpdatePayload.safeParse({ profile: { display_name: "  " } }).success).toBe(false);
    expect(
      userUpdatePayload.safeParse({ profile: { display_name: "A", avatar_url: "http://x/y" } }).success,
    ).toBe(false);
    expect(
      userUpdatePayload.safeParse({ profile: { display_name: "A", avatar_url: "mxc://s/m" } }).success,
    ).toBe(true);
  });

  it("user.fetch takes one id or up to 100", () => {
    expect(userFetchPayload.safeParse({ id: "@a:b" }).success).toBe(true);
    expect(userFetchPayload.safeParse({ ids: ["@a:b"] }).success).toBe(true);
    expect(
      userFetchPayload.safeParse({ ids: Array.from({ length: 101 }, (_, i) => `@u${i}:b`) }).success,
    ).toBe(false);
    expect(userFetchPayload.safeParse({ id: "alice" }).success).toBe(false);
  });

  it("authenticate takes a token or a client_id", () => {
    expect(authenticatePayload.safeParse({ token: "t" }).success).toBe(true);
    expect(authenticatePayload.safeParse({ client_id: "12345678" }).success).toBe(true);
    expect(authenticatePayload.safeParse({ client_id: "short" }).success).toBe(false);
  });
});
