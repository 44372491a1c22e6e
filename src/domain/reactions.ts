// Reactions: one per user per key on a message, kept with who reacted, mirrored by the outbox as
// Matrix m.reaction annotations (un-reacting redacts the annotation). Each change is logged as a
// `channel.reaction` event carrying the message's full summary, pushed as `chat.event.reaction`.
import { ProtocolError } from "../protocol/errors.ts";
import type { MessageContent } from "../protocol/events.ts";
import { asEventSeq, type ChannelName, type UserId } from "../protocol/ids.ts";
import { dict } from "../shared/dict.ts";
import type { Actor } from "./actor.ts";
import type { Channels } from "./channels.ts";
import type { EventLog, LoggedContent } from "./event-log.ts";
import type { Membership } from "./membership.ts";
import { hiddenFrom, recipientsOf } from "./message-content.ts";
import type { Roles } from "./moderation/roles.ts";
import type { NewMirror } from "./outbox.ts";
import type { ChannelRow, Store } from "./ports/store.ts";

export interface ReactRequest {
  readonly channel: ChannelName;
  readonly event: number;
  readonly reaction: string;
  readonly delete?: boolean | undefined;
}

export interface Reactions {
  react(actor: Actor, request: ReactRequest): Promise<void>;
}

/** The log entry for a reaction change: the message's summary after it. */
export const reactionEntry =
  (store: Store, channelId: number, targetSeq: number) => async (): Promise<LoggedContent> => ({
    eventType: "channel.reaction",
    content: {
      event: asEventSeq(targetSeq),
      reactions: (await store.reactionSummaries(channelId, [targetSeq])).get(targetSeq) ?? dict<UserId[]>(),
    },
  });

/** Thrown inside the log's transaction when a concurrent request made the same change first. */
class AlreadyDone extends Error {}

export interface ReactionsDeps {
  readonly store: Store;
  readonly channels: Channels;
  readonly membership: Membership;
  readonly eventLog: EventLog;
  readonly roles: Pick<Roles, "canModerate">;
}

export function createReactions(deps: ReactionsDeps): Reactions {
  const { store, channels, membership, eventLog, roles } = deps;
  const record = (
    channel: ChannelRow,
    userId: UserId,
    targetSeq: number,
    mirror: NewMirror,
    apply: () => Promise<void>,
    afterAppend?: (seq: number, outboxId: number | null) => Promise<void>,
  ) =>
    eventLog
      .recordNative({
        channel,
        sender: userId,
        ts: Date.now(),
        entry: reactionEntry(store, channel.id, targetSeq),
        apply,
        mirror,
        ...(afterAppend ? { afterAppend } : {}),
      })
      .then(
        () => undefined,
        (error: unknown) => {
          // The same reaction (or its removal) won a race with this one: nothing left to do.
          if (!(error instanceof AlreadyDone)) throw error;
        },
      );

  return {
    async react(actor, request) {
      const userId = actor.userId;
      const channel = await channels.get(request.channel, actor);
      if (!(await membership.isJoined(userId, channel)))
        throw new ProtocolError("chat.denied", "Join the channel to react.");
      const target = await store.eventBySeq(channel.id, asEventSeq(request.event));
      // A message held for media review takes no reactions: their pushes would tell everyone of it.
      if (
        target?.eventType !== "channel.message" ||
        (target.content as MessageContent).type === "deleted" ||
        target.pendingReview
      ) {
        throw new ProtocolError("chat.unknown_event", `No message ${request.event} to react to.`, {
          fields: ["event"],
        });
      }
      // One the reactor cannot see answers as missing; a message to chosen recipients takes no
      // reactions (they would be pushed to everyone).
      if (hiddenFrom(target, userId, roles.canModerate(channel, userId, actor.admin))) {
        throw new ProtocolError("chat.unknown_event", `No message ${request.event} to react to.`, {
          fields: ["event"],
        });
      }
      if (recipientsOf(target.content)) {
        throw new ProtocolError("chat.denied", "Messages to chosen recipients take no reactions.");
      }
      const key = request.reaction;
      const existing = await store.findReaction(channel.id, target.seq, userId, key);
      if (request.delete) {
        if (!existing) return; // nothing to take back
        const payload = {
          target: target.seq,
          key,
          reactionEventId: existing.matrixEventId,
          reactEntry: existing.outboxId ?? null,
        };
        await record(channel, userId, target.seq, { kind: "unreact", actor: userId, payload }, async () => {
          if (!(await store.removeReaction(channel.id, target.seq, userId, key))) throw new AlreadyDone();
        });
        return;
      }
      if (existing) return; // one reaction per user per key
      await record(
        channel,
        userId,
        target.seq,
        { kind: "react", actor: userId, payload: { target: target.seq, key } },
        async () => {
          const added = await store.addReaction({
            channelId: channel.id,
            targetSeq: target.seq,
            userId,
            reaction: key,
            matrixEventId: null,
          });
          if (!added) throw new AlreadyDone();
        },
        async (_seq, outboxId) => {
          if (outboxId !== null) await store.setReactionOutbox(channel.id, target.seq, userId, key, outboxId);
        },
      );
    },
  };
}
