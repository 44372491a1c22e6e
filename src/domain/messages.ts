// Sending as a native user: messages, replies, edits and deletes. Validated here, posted through
// the puppet, then logged; an edit or delete also rewrites the original so fetch shows the latest.
import { createHash, randomUUID } from "node:crypto";
import { ProtocolError } from "../protocol/errors.ts";
import type { ChatEvent, MessageContent } from "../protocol/events.ts";
import type { ChannelName, UserId } from "../protocol/ids.ts";
import { asEventSeq } from "../protocol/ids.ts";
import type { Actor } from "./actor.ts";
import type { Channels } from "./channels.ts";
import type { EventLog } from "./event-log.ts";
import type { Membership } from "./membership.ts";
import { mentionsIn, parseMessageContent } from "./message-content.ts";
import type { Gatekeeper } from "./moderation/gatekeeper.ts";
import { readPowerLevels } from "./moderation/power-levels.ts";
import type { Settings } from "./moderation/settings.ts";
import type { Notifications } from "./notifications.ts";
import type { MatrixPort } from "./ports/matrix.ts";
import type { ChannelRow, Store, StoredEvent } from "./ports/store.ts";

export interface SendRequest {
  readonly channel: ChannelName;
  readonly event_type: string;
  readonly content: { readonly type: string; readonly [key: string]: unknown };
  readonly txn_id?: string | undefined;
  readonly reply_to?: number | undefined;
  readonly replaces?: number | undefined;
}

export interface Messages {
  send(actor: Actor, request: SendRequest): Promise<ChatEvent>;
}

/**
 * The Matrix transaction id for a send. Synapse's idempotency key ignores which puppet sends, so
 * it must be unique across users: derived from the user, the channel and the client's txn_id
 * when given (a txn_id is scoped to its channel).
 */
export function matrixTxnId(userId: UserId, channelId: number, clientTxnId: string | undefined): string {
  if (clientTxnId === undefined) return `parley.${randomUUID()}`;
  return `parley.${createHash("sha256").update(`${userId}\n${channelId}\n${clientTxnId}`).digest("base64url")}`;
}

export interface MessagesDeps {
  readonly store: Store;
  readonly matrix: MatrixPort;
  readonly channels: Channels;
  readonly membership: Membership;
  readonly eventLog: EventLog;
  readonly notifications: Notifications;
  readonly gatekeeper: Gatekeeper;
  readonly settings: Settings;
}

export function createMessages(deps: MessagesDeps): Messages {
  const { store, matrix, channels, membership, eventLog, notifications, gatekeeper, settings } = deps;
  const target = (channel: ChannelRow, seq: number, field: string): StoredEvent => {
    const event = store.eventBySeq(channel.id, asEventSeq(seq));
    if (event?.eventType !== "channel.message") {
      throw new ProtocolError("chat.unknown_event", `No message ${seq} in ${channel.name}.`, {
        fields: [field],
      });
    }
    return event;
  };

  /** Who may replace `original` with `content`: its sender; for deletes also moderators. */
  const checkReplace = (
    channel: ChannelRow,
    actor: Actor,
    original: StoredEvent,
    content: MessageContent,
  ) => {
    const userId = actor.userId;
    if ((original.content as MessageContent).type === "deleted") {
      throw new ProtocolError("chat.unknown_event", "That message was deleted.", { fields: ["replaces"] });
    }
    if (original.sender === userId) return;
    const levels = readPowerLevels(channel.powerLevels);
    if (content.type === "deleted" && (actor.admin || levels.of(userId) >= levels.redact)) return;
    throw new ProtocolError(
      "chat.denied",
      content.type === "deleted"
        ? "Only the sender or a moderator can delete a message."
        : "You can only edit your own messages.",
    );
  };

  return {
    async send(actor, request) {
      const userId = actor.userId;
      if (request.event_type !== "channel.message") {
        throw new ProtocolError(
          "chat.unsupported_event_type",
          `Cannot send events of type ${request.event_type}.`,
        );
      }
      const content = parseMessageContent(request.content);
      if (content.type === "deleted" && request.replaces === undefined) {
        throw new ProtocolError("protocol.invalid_payload", "A deleted message needs `replaces`.", {
          fields: ["replaces"],
        });
      }
      const channel = channels.get(request.channel, actor);
      // A retry of a send that went through returns the original event, however late it comes,
      // before any check that could now refuse it (slow mode, a timeout since, ...).
      const earlier =
        request.txn_id === undefined ? undefined : store.sentTxn(userId, channel.id, request.txn_id);
      const earlierEvent = earlier && store.eventByMatrixId(earlier);
      if (earlierEvent) return eventLog.toChatEvent(channel, earlierEvent);
      if (store.member(channel.id, userId)?.membership === "ban") throw new ProtocolError("channel.banned");
      if (!membership.isJoined(userId, channel)) {
        throw new ProtocolError("chat.denied", "Join the channel before sending to it.");
      }
      const original =
        request.replaces === undefined ? undefined : target(channel, request.replaces, "replaces");
      if (original) checkReplace(channel, actor, original, content);
      const isPost = original === undefined;
      gatekeeper.checkPost(channel, actor, isPost ? "post" : "change");
      const repliedTo =
        request.reply_to === undefined ? undefined : target(channel, request.reply_to, "reply_to");

      const txnId = matrixTxnId(userId, channel.id, request.txn_id);
      const mentions = mentionsIn(content);
      const matrixEventId =
        content.type === "deleted" && original
          ? await matrix.redact(channel.roomId, userId, original.matrixEventId, txnId)
          : await matrix.sendMessage(
              channel.roomId,
              userId,
              {
                content: content as Exclude<MessageContent, { type: "deleted" }>,
                replyTo: repliedTo?.matrixEventId,
                replaces: original?.matrixEventId,
                mentions,
              },
              txnId,
            );
      if (request.txn_id !== undefined)
        store.recordSentTxn(userId, channel.id, request.txn_id, matrixEventId);
      const { event, fresh } = eventLog.record({
        channel,
        matrixEventId,
        sender: userId,
        ts: Date.now(),
        entry: { eventType: "channel.message", content },
        replyTo: repliedTo?.seq,
        replaces: original?.seq,
        ...(original
          ? {
              apply: () =>
                content.type === "deleted"
                  ? store.deleteContent(channel.id, original.seq)
                  : store.replaceContent(channel.id, original.seq, content),
            }
          : {}),
      });
      if (fresh && isPost) {
        settings.posted(channel, userId, Date.now());
        notifications.mentioned(channel, event, mentions);
      }
      return event;
    },
  };
}
