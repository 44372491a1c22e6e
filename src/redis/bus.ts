// The cluster bus on Redis pub/sub: one channel, every node subscribed, each message naming the
// node it came from (a node ignores its own). Pub/sub keeps no history: what is published while a
// node's subscription is down is lost to it, so after resubscribing it catches up from the store
// (onResubscribed). Messages are checked on arrival like any other input.
import type { Redis } from "ioredis";
import { z } from "zod";
import type { ClusterBus, ClusterNotice } from "../domain/ports/bus.ts";
import type { Logger } from "../logging.ts";
import type { CloseCodeName } from "../protocol/close-codes.ts";
import type { ChatEvent } from "../protocol/events.ts";
import type { OutgoingFrame } from "../protocol/frames.ts";
import { asChannelName, asUserId, type ChannelName, type UserId } from "../protocol/ids.ts";
import { KEY_PREFIX, throttledWarn } from "./client.ts";

export const BUS_CHANNEL = `${KEY_PREFIX}bus`;

const noticeSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("policy-changed"), channelId: z.number().int() }),
  z.object({ kind: z.literal("audiences-changed"), channelId: z.number().int() }),
  z.object({ kind: z.literal("ignores-changed"), userId: z.string().transform(asUserId) }),
  z.object({ kind: z.literal("inbox-recorded") }),
  z.object({ kind: z.literal("outbox-queued"), channelId: z.number().int() }),
  z.object({ kind: z.literal("subscriptions-changed") }),
  z.object({ kind: z.literal("event-updated"), channelId: z.number().int(), seq: z.number().int() }),
]);
const frameSchema = z.array(z.unknown());
const messageSchema = z.discriminatedUnion("kind", [
  z.object({
    kind: z.literal("event"),
    node: z.string(),
    channelId: z.number().int(),
    event: z.looseObject({ event_id: z.number().int(), channel: z.string(), event_type: z.string() }),
  }),
  z.object({ kind: z.literal("notice"), node: z.string(), notice: noticeSchema }),
  z.object({ kind: z.literal("publish"), node: z.string(), channel: z.string(), frame: frameSchema }),
  z.object({
    kind: z.literal("to-user"),
    node: z.string(),
    userId: z.string(),
    frame: frameSchema,
  }),
  z.object({ kind: z.literal("subscribe-user"), node: z.string(), channel: z.string(), userId: z.string() }),
  z.object({
    kind: z.literal("unsubscribe-user"),
    node: z.string(),
    channel: z.string(),
    userId: z.string(),
    notice: frameSchema,
  }),
  z.object({ kind: z.literal("disconnect-user"), node: z.string(), userId: z.string(), reason: z.string() }),
]);

type ChatEventHead = { event_id: number; channel: string; event_type: string };

/** What the fan-out asks of other nodes' connections. */
export interface ConnectionsElsewhere {
  publish(channel: ChannelName, frame: OutgoingFrame): void;
  sendToUser(userId: UserId, frame: OutgoingFrame): void;
  subscribeUser(channel: ChannelName, userId: UserId): void;
  unsubscribeUser(channel: ChannelName, userId: UserId, notice: OutgoingFrame): void;
  disconnectUser(userId: UserId, reason: CloseCodeName): void;
}

export interface RedisBus extends ClusterBus {
  /** Sends to the other nodes' connections. */
  readonly elsewhere: ConnectionsElsewhere;
  /** Where this node's connections take the others' requests (the fan-out registers itself). */
  serveConnections(here: ConnectionsElsewhere): void;
  /** Resolves once subscribed. */
  ready(): Promise<void>;
  close(): Promise<void>;
}

export function createRedisBus(publisher: Redis, subscriber: Redis, nodeId: string, log: Logger): RedisBus {
  const warn = throttledWarn(log);
  const eventHandlers: Array<(channelId: number, event: ChatEvent) => void> = [];
  const noticeHandlers: Array<(notice: ClusterNotice) => void> = [];
  const resubscribed: Array<() => void> = [];
  let connections: ConnectionsElsewhere | undefined;
  let subscribedOnce = false;

  const send = (message: z.input<typeof messageSchema>) => {
    publisher.publish(BUS_CHANNEL, JSON.stringify(message)).catch((error: unknown) => {
      warn(`redis: a bus message (${message.kind}) was not sent; the others catch up from the store`, error);
    });
  };

  const dispatch = (raw: string) => {
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      warn("redis: a bus message that is not JSON was ignored");
      return;
    }
    const parsed = messageSchema.safeParse(json);
    if (!parsed.success) {
      warn("redis: a bus message of an unknown shape was ignored");
      return;
    }
    const message = parsed.data;
    if (message.node === nodeId) return;
    switch (message.kind) {
      case "event":
        for (const handler of eventHandlers)
          handler(message.channelId, message.event as unknown as ChatEvent);
        return;
      case "notice":
        for (const handler of noticeHandlers) handler(message.notice);
        return;
      case "publish":
        connections?.publish(asChannelName(message.channel), message.frame);
        return;
      case "to-user":
        connections?.sendToUser(asUserId(message.userId), message.frame);
        return;
      case "subscribe-user":
        connections?.subscribeUser(asChannelName(message.channel), asUserId(message.userId));
        return;
      case "unsubscribe-user":
        connections?.unsubscribeUser(
          asChannelName(message.channel),
          asUserId(message.userId),
          message.notice,
        );
        return;
      case "disconnect-user":
        connections?.disconnectUser(asUserId(message.userId), message.reason as CloseCodeName);
        return;
    }
  };

  subscriber.on("message", (channel: string, raw: string) => {
    if (channel !== BUS_CHANNEL) return;
    try {
      dispatch(raw);
    } catch (error) {
      log.error("handling a bus message failed", error);
    }
  });
  // ioredis subscribes again by itself after a reconnect; whatever was said meanwhile is lost.
  subscriber.on("ready", () => {
    if (!subscribedOnce) return;
    log.info("redis: the bus is back; catching up from the store");
    for (const handler of resubscribed) handler();
  });
  const subscribed = subscriber.subscribe(BUS_CHANNEL).then(() => {
    subscribedOnce = true;
  });

  return {
    nodeId,
    publishEvent: (channelId, event) =>
      send({
        kind: "event",
        node: nodeId,
        channelId,
        event: event as unknown as Record<string, unknown> & ChatEventHead,
      }),
    onEvent: (handler) => eventHandlers.push(handler),
    notify: (notice) => send({ kind: "notice", node: nodeId, notice }),
    onNotice: (handler) => noticeHandlers.push(handler),
    onResubscribed: (handler) => resubscribed.push(handler),
    elsewhere: {
      publish: (channel, frame) => send({ kind: "publish", node: nodeId, channel, frame: [...frame] }),
      sendToUser: (userId, frame) => send({ kind: "to-user", node: nodeId, userId, frame: [...frame] }),
      subscribeUser: (channel, userId) => send({ kind: "subscribe-user", node: nodeId, channel, userId }),
      unsubscribeUser: (channel, userId, notice) =>
        send({ kind: "unsubscribe-user", node: nodeId, channel, userId, notice: [...notice] }),
      disconnectUser: (userId, reason) => send({ kind: "disconnect-user", node: nodeId, userId, reason }),
    },
    serveConnections(here) {
      connections = here;
    },
    ready: () => subscribed,
    async close() {
      await subscriber.unsubscribe(BUS_CHANNEL).catch(() => undefined);
    },
  };
}
