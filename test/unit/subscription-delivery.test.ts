// One delivery of an event subscription, pure: a delivery id that every attempt repeats, a
// signature a receiver checks with node:crypto, and back-off that doubles up to its cap.
import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { ChannelRow, StoredEvent, SubscriptionRow } from "../../src/domain/ports/store.ts";
import { deliveryId, deliveryOf, retryDelay } from "../../src/domain/subscriptions/delivery.ts";
import { asChannelName, asEventSeq, asRoomId, asUserId } from "../../src/protocol/ids.ts";

const subscription: SubscriptionRow = {
  id: "0b7a6f0e-2c4e-4d5f-9a51-6a1f7e0c2d11",
  url: "https://example.org/hook",
  secret: "k".repeat(64),
  channels: null,
  events: null,
  createdAt: 1,
  createdBy: "test",
};
const channel: ChannelRow = {
  id: 7,
  name: asChannelName("lobby"),
  roomId: asRoomId("!r:x"),
  alias: "#chat_lobby:x",
  createdAt: 1,
  joinRule: "public",
  powerLevels: null,
  topic: null,
};
const stored: StoredEvent = {
  channelId: 7,
  seq: asEventSeq(42),
  matrixEventId: null,
  eventType: "channel.message",
  sender: asUserId("@chat_alice:x"),
  content: { type: "text", body: "héllo" },
  ts: 1234,
  replyTo: null,
  replaces: null,
  edited: false,
};

describe("a delivery", () => {
  it("has one id per (subscription, channel, event), shaped as a UUID", () => {
    const id = deliveryId(subscription.id, 7, 42);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(deliveryId(subscription.id, 7, 42)).toBe(id);
    expect(
      new Set([
        deliveryId(subscription.id, 7, 43),
        deliveryId(subscription.id, 8, 42),
        deliveryId("other", 7, 42),
        id,
      ]).size,
    ).toBe(4);
  });

  it("carries the event as chat.event has it, signed over its exact bytes", () => {
    const delivery = deliveryOf(subscription, channel, stored);
    expect(JSON.parse(delivery.body)).toEqual({
      id: delivery.id,
      subscription: subscription.id,
      event: {
        channel: "lobby",
        event_type: "channel.message",
        content: { type: "text", body: "héllo" },
        sender: "@chat_alice:x",
        event_id: 42,
        ts: 1234,
      },
    });
    expect(delivery.headers["x-parley-delivery"]).toBe(delivery.id);
    const hmac = createHmac("sha256", subscription.secret).update(delivery.body).digest("hex");
    expect(delivery.headers["x-parley-signature"]).toBe(`sha256=${hmac}`);
    expect(deliveryOf(subscription, channel, stored)).toEqual(delivery);
  });

  it("waits the first delay after a failure, doubling after each further one up to the cap", () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => retryDelay(n, 1_000, 10_000))).toEqual([
      1_000, 2_000, 4_000, 8_000, 10_000, 10_000,
    ]);
    expect(retryDelay(10_000, 1_000, 3_600_000)).toBe(3_600_000);
  });
});
