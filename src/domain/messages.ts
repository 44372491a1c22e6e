// Sending messages as a native user: validated here, posted through the puppet, then logged.
import { createHash, randomUUID } from "node:crypto";
import { ProtocolError } from "../protocol/errors.ts";
import type { ChatEvent, MessageContent } from "../protocol/events.ts";
import type { ChannelName, UserId } from "../protocol/ids.ts";
import { MAX_BODY_LENGTH } from "../protocol/schemas.ts";
import type { Channels } from "./channels.ts";
import type { EventLog } from "./event-log.ts";
import type { MatrixMessageContent, MatrixPort } from "./matrix-port.ts";
import type { Membership } from "./membership.ts";
import type { Store } from "./store-port.ts";

export interface SendRequest {
  readonly channel: ChannelName;
  readonly event_type: string;
  readonly content: { readonly type: string; readonly body?: unknown };
  readonly txn_id?: string | undefined;
}

export interface Messages {
  send(userId: UserId, request: SendRequest): Promise<ChatEvent>;
}

const MSGTYPES = { text: "m.text", emote: "m.emote", notice: "m.notice" } as const;
type TextualType = keyof typeof MSGTYPES;
const isTextualType = (type: string): type is TextualType => Object.hasOwn(MSGTYPES, type);

/**
 * The Matrix transaction id for a send. Synapse's idempotency key ignores which puppet sends, so
 * it must be unique across users: derived from the user and the client's txn_id when given.
 */
export function matrixTxnId(userId: UserId, clientTxnId: string | undefined): string {
  if (clientTxnId === undefined) return `parley.${randomUUID()}`;
  return `parley.${createHash("sha256").update(`${userId}\n${clientTxnId}`).digest("base64url")}`;
}

export function validateMessage(request: SendRequest): MessageContent {
  if (request.event_type !== "channel.message") {
    throw new ProtocolError(
      "chat.unsupported_event_type",
      `Cannot send events of type ${request.event_type}.`,
    );
  }
  const { type, body } = request.content;
  if (!isTextualType(type)) {
    throw new ProtocolError("chat.unsupported_content_type", `Content type ${type} is not supported.`);
  }
  if (typeof body !== "string") {
    throw new ProtocolError("protocol.invalid_payload", "content.body must be a string.", {
      fields: ["content.body"],
    });
  }
  if (body.trim() === "") throw new ProtocolError("chat.empty");
  if (body.length > MAX_BODY_LENGTH) {
    throw new ProtocolError(
      "protocol.invalid_payload",
      `content.body is longer than ${MAX_BODY_LENGTH} characters.`,
      {
        fields: ["content.body"],
      },
    );
  }
  return { type, body };
}

export function createMessages(
  store: Store,
  matrix: MatrixPort,
  channels: Channels,
  membership: Membership,
  log: EventLog,
): Messages {
  return {
    async send(userId, request) {
      const content = validateMessage(request);
      const channel = channels.find(request.channel);
      if (!channel) throw new ProtocolError("chat.unknown", `No channel ${request.channel}.`);
      if (!membership.isJoined(userId, channel)) {
        throw new ProtocolError("chat.denied", "Join the channel before sending to it.");
      }
      // A retry of a send that went through returns the original event, however late it comes.
      const earlier = request.txn_id === undefined ? undefined : store.sentTxn(userId, request.txn_id);
      const earlierEvent = earlier && store.eventByMatrixId(earlier);
      if (earlierEvent) return log.toChatEvent(channel, earlierEvent);
      const matrixContent: MatrixMessageContent = { msgtype: MSGTYPES[content.type], body: content.body };
      const matrixEventId = await matrix.sendMessage(
        channel.roomId,
        userId,
        matrixContent,
        matrixTxnId(userId, request.txn_id),
      );
      if (request.txn_id !== undefined) store.recordSentTxn(userId, request.txn_id, matrixEventId);
      return log.record({
        channel,
        matrixEventId,
        sender: userId,
        ts: Date.now(),
        entry: { eventType: "channel.message", content },
      }).event;
    },
  };
}
