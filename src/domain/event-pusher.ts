// Pushes logged events to subscribers. In a big channel, joins and leaves would flood everyone
// (a live event gains hundreds of members a minute), so there they are batched: member events
// without a moderator (`by`) wait up to `windowMs` and go out together as one `chat.events` push.
// Any other event of the channel first flushes the batch, so pushes stay in event_id order.
// Events arrive in log order (after their commit); each channel's go out one after another.

import type { Logger } from "../logging.ts";
import type { ChatEvent } from "../protocol/events.ts";
import { pushFrame } from "../protocol/frames.ts";
import type { ChannelName } from "../protocol/ids.ts";
import { guarded } from "../shared/guard.ts";
import type { EventPublisher } from "./event-log.ts";
import type { Hearing } from "./hearing.ts";
import type { FanOut } from "./ports/fanout.ts";
import type { ChannelRow, Store } from "./ports/store.ts";

export interface MemberBatching {
  /** Channels with more joined members than this batch their join/leave pushes. */
  readonly threshold: number;
  readonly windowMs: number;
}

export interface EventPusher {
  readonly publish: EventPublisher;
  /**
   * A logged event changed (a media mark): `chat.event.update` to this node's subscribers who
   * hear it as it is now, in order with the channel's pushes.
   */
  update(channel: ChannelRow, event: ChatEvent): void;
  /** Sends what is waiting; called on shutdown. */
  flushAll(): Promise<void>;
}

export interface EventPusherDeps {
  readonly fanout: FanOut;
  readonly store: Store;
  readonly batching: MemberBatching;
  readonly hearing: Hearing;
  readonly log: Logger;
  /** Runs after each event's push, in the same order. */
  readonly afterPush?: EventPublisher;
}

export function createEventPusher(deps: EventPusherDeps): EventPusher {
  const { fanout, store, batching, hearing, log, afterPush } = deps;
  const pending = new Map<ChannelName, { events: ChatEvent[]; timer: NodeJS.Timeout }>();
  /** Per channel, the delivery in progress: the next one waits for it. */
  const chains = new Map<ChannelName, Promise<void>>();

  const flush = (channel: ChannelName) => {
    const batch = pending.get(channel);
    if (!batch) return;
    pending.delete(channel);
    clearTimeout(batch.timer);
    fanout.publishHere(
      channel,
      pushFrame("chat.events", { channel, events: batch.events }),
      (subscriber) => subscriber.batchesMemberEvents,
    );
  };

  const batchable = async (channelId: number, event: ChatEvent) =>
    event.event_type === "channel.member" &&
    event.content.by === undefined &&
    (await store.joinedCount(channelId)) > batching.threshold;

  const deliver = async (channel: ChannelRow, event: ChatEvent): Promise<void> => {
    {
      if (await batchable(channel.id, event)) {
        // Clients that did not opt in get each event as it happens, as the contract says.
        fanout.publishHere(
          channel.name,
          pushFrame("chat.event", event),
          (subscriber) => !subscriber.batchesMemberEvents,
        );
        const batch = pending.get(channel.name);
        if (batch) batch.events.push(event);
        else
          pending.set(channel.name, {
            events: [event],
            timer: setTimeout(
              guarded(log, "pushing a batch of member events", () => flush(channel.name)),
              batching.windowMs,
            ),
          });
        return;
      }
      flush(channel.name);
      if (event.event_type === "channel.reaction") {
        const { event: target, reactions } = event.content;
        const payload = {
          channel: channel.name,
          event: target,
          reactions,
          event_id: event.event_id,
          sender: event.sender,
        };
        fanout.publishHere(channel.name, pushFrame("chat.event.reaction", payload));
        return;
      }
      const hears = await hearing.filterFor(channel, event);
      fanout.publishHere(
        channel.name,
        pushFrame("chat.event", event),
        hears === null ? undefined : (subscriber) => hears(subscriber.userId),
      );
    }
  };

  /** Runs `work` after the channel's earlier pushes. */
  const inTurn = (channel: ChannelRow, event: ChatEvent, work: () => Promise<void>) => {
    const previous = chains.get(channel.name) ?? Promise.resolve();
    const next = previous
      .then(work)
      .catch((error: unknown) =>
        log.error(`pushing event ${event.event_id} of ${channel.name} failed`, error),
      );
    chains.set(channel.name, next);
    void next.then(() => {
      if (chains.get(channel.name) === next) chains.delete(channel.name);
    });
  };

  return {
    publish(channel, event) {
      inTurn(channel, event, async () => {
        await deliver(channel, event);
        afterPush?.(channel, event);
      });
    },
    update(channel, event) {
      inTurn(channel, event, async () => {
        flush(channel.name);
        const hears = await hearing.filterFor(channel, event);
        fanout.publishHere(
          channel.name,
          pushFrame("chat.event.update", event),
          hears === null ? undefined : (subscriber) => hears(subscriber.userId),
        );
      });
    },
    async flushAll() {
      await Promise.all(chains.values());
      for (const channel of [...pending.keys()]) flush(channel);
    },
  };
}
