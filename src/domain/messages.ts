// Sending as a native user: messages, replies, edits and deletes. Checked against what Parley
// knows of the room, logged and pushed at once, then mirrored to Matrix by the outbox through the
// sender's puppet; an edit or delete also rewrites the original so fetch shows the latest.
import { ProtocolError } from "../protocol/errors.ts";
import type { ChatEvent, MessageContent } from "../protocol/events.ts";
import type { ChannelName, UserId } from "../protocol/ids.ts";
import { asEventSeq } from "../protocol/ids.ts";
import type { Actor } from "./actor.ts";
import type { Channels } from "./channels.ts";
import type { EventLog } from "./event-log.ts";
import type { Media } from "./media.ts";
import type { Membership } from "./membership.ts";
import { hiddenFrom, mentionsIn, parseMessageContent, recipientsOf } from "./message-content.ts";
import type { Gatekeeper } from "./moderation/gatekeeper.ts";
import { readPowerLevels } from "./moderation/power-levels.ts";
import type { Roles } from "./moderation/roles.ts";
import type { Settings } from "./moderation/settings.ts";
import type { Notifications } from "./notifications.ts";
import type { NewMirror } from "./outbox.ts";
import type { ChannelRow, Store, StoredEvent } from "./ports/store.ts";

export interface SendRequest {
  readonly channel: ChannelName;
  readonly event_type: string;
  readonly content: { readonly type: string; readonly [key: string]: unknown };
  readonly txn_id?: string | undefined;
  readonly reply_to?: number | undefined;
  readonly replaces?: number | undefined;
  /** Only these users (and the sender, and moderators) receive it; it stays off Matrix. */
  readonly to?: readonly UserId[] | undefined;
}

export interface Messages {
  send(actor: Actor, request: SendRequest): Promise<ChatEvent>;
  /** The message `seq` if `actor` may see it; `chat.unknown_event` (naming `field`) if not. */
  visibleMessage(channel: ChannelRow, actor: Actor, seq: number, field: string): Promise<StoredEvent>;
}

/** The outbox entry that carries a native message, edit or delete to Matrix. */
function mirrorOf(
  userId: UserId,
  content: MessageContent,
  mentions: UserId[],
  original: StoredEvent | undefined,
  repliedTo: StoredEvent | undefined,
): NewMirror {
  if (original === undefined) {
    if (content.type === "deleted") throw new Error("a delete without the message it deletes");
    return { kind: "message", actor: userId, payload: { content, replyTo: repliedTo?.seq, mentions } };
  }
  const previous = original.content as MessageContent;
  if (content.type === "deleted") {
    return { kind: "delete", actor: userId, payload: { original: original.seq, previous } };
  }
  return { kind: "edit", actor: userId, payload: { content, original: original.seq, mentions, previous } };
}

export interface MessagesDeps {
  readonly store: Store;
  readonly channels: Channels;
  readonly membership: Membership;
  readonly eventLog: EventLog;
  readonly notifications: Notifications;
  readonly gatekeeper: Gatekeeper;
  readonly settings: Settings;
  /** Adds what Parley knows of the message's files (size, pixel size, thumbnail). */
  readonly files: Pick<Media, "withFileInfo">;
  readonly roles: Pick<Roles, "canModerate">;
}

/** Thrown inside the log's transaction when the same txn_id was logged meanwhile. */
class RetriedTxn extends Error {}

export function createMessages(deps: MessagesDeps): Messages {
  const { store, channels, membership, eventLog, notifications, gatekeeper, settings, files, roles } = deps;
  const target = async (channel: ChannelRow, seq: number, field: string): Promise<StoredEvent> => {
    const event = await store.eventBySeq(channel.id, asEventSeq(seq));
    if (event?.eventType !== "channel.message") {
      throw new ProtocolError("chat.unknown_event", `No message ${seq} in ${channel.name}.`, {
        fields: [field],
      });
    }
    return event;
  };
  /**
   * The message, if the actor may see it: a message to other recipients, or one held for review,
   * gets the answer a missing one gets (a "denied" would tell that it exists).
   */
  const visibleTarget = async (channel: ChannelRow, actor: Actor, seq: number, field: string) => {
    const event = await target(channel, seq, field);
    if (hiddenFrom(event, actor.userId, roles.canModerate(channel, actor.userId, actor.admin)))
      throw new ProtocolError("chat.unknown_event", `No message ${seq} in ${channel.name}.`, {
        fields: [field],
      });
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
    visibleMessage: visibleTarget,
    async send(actor, request) {
      const userId = actor.userId;
      if (request.event_type !== "channel.message") {
        throw new ProtocolError(
          "chat.unsupported_event_type",
          `Cannot send events of type ${request.event_type}.`,
        );
      }
      const content = await files.withFileInfo(parseMessageContent(request.content));
      if (content.type === "deleted" && request.replaces === undefined) {
        throw new ProtocolError("protocol.invalid_payload", "A deleted message needs `replaces`.", {
          fields: ["replaces"],
        });
      }
      const channel = await channels.get(request.channel, actor);
      // A retry of a send that went through returns the original event, however late it comes,
      // before any check that could now refuse it (slow mode, a timeout since, ...).
      const earlierEvent = async () => {
        const earlier =
          request.txn_id === undefined ? undefined : await store.sentTxn(userId, channel.id, request.txn_id);
        const stored = earlier === undefined ? undefined : await store.eventBySeq(channel.id, earlier);
        return stored && eventLog.toChatEvent(channel, stored);
      };
      const earlier = await earlierEvent();
      if (earlier) return earlier;
      if ((await store.member(channel.id, userId))?.membership === "ban")
        throw new ProtocolError("channel.banned");
      if (!(await membership.isJoined(userId, channel))) {
        throw new ProtocolError("chat.denied", "Join the channel before sending to it.");
      }
      const original =
        request.replaces === undefined
          ? undefined
          : await visibleTarget(channel, actor, request.replaces, "replaces");
      if (original) checkReplace(channel, actor, original, content);
      const isPost = original === undefined;
      // Media review: a new post with files is held; what changes a held message is held with it;
      // an edit may not bring files past review into a message everyone sees.
      const heldByReview = await settings.holdsMedia(channel, userId, content);
      if (heldByReview && original && !original.pendingReview) {
        throw new ProtocolError(
          "chat.denied",
          "Files here are reviewed before they are shown: post them as a new message.",
          { fields: ["content"] },
        );
      }
      const held = original ? original.pendingReview === true : heldByReview;
      await gatekeeper.checkPost(channel, actor, isPost ? "post" : "change");
      const repliedTo =
        request.reply_to === undefined
          ? undefined
          : await visibleTarget(channel, actor, request.reply_to, "reply_to");

      // A message to chosen recipients (`to`) stays native: only they, its sender and moderators
      // hear it, and it is not posted to the room. An edit or delete of one stays as private.
      if (original && request.to !== undefined) {
        throw new ProtocolError(
          "protocol.invalid_payload",
          "An edit or delete keeps the original's recipients.",
          {
            fields: ["to"],
          },
        );
      }
      const recipients = original
        ? recipientsOf(original.content)
        : request.to && [...new Set(request.to)].sort();
      const stored = (recipients ? { ...content, to: recipients } : content) as MessageContent;
      const mentions = mentionsIn(content);
      const now = Date.now();
      const logged = eventLog.recordNative({
        channel,
        sender: userId,
        ts: now,
        entry: { eventType: "channel.message", content: stored },
        replyTo: repliedTo?.seq,
        replaces: original?.seq,
        ...(held ? { pendingReview: true } : {}),
        // A held post reaches Matrix when a moderator approves it (media-review.ts), as it is then;
        // an edit or delete of it is mirrored only if it got there (a held Matrix post is). A
        // message to chosen recipients never does.
        ...(recipients || (isPost && held)
          ? {}
          : { mirror: mirrorOf(userId, content, mentions, original, repliedTo) }),
        ...(original
          ? {
              apply: async () => {
                // Read again with the log held: a delete that landed meanwhile is not undone by an edit.
                const now = await store.eventBySeq(channel.id, original.seq);
                if ((now?.content as MessageContent | undefined)?.type === "deleted") {
                  throw new ProtocolError("chat.unknown_event", "That message was deleted.", {
                    fields: ["replaces"],
                  });
                }
                await (content.type === "deleted"
                  ? store.deleteContent(channel.id, original.seq, recipients)
                  : store.replaceContent(channel.id, original.seq, stored));
              },
            }
          : {}),
        afterAppend: async (seq) => {
          if (request.txn_id === undefined) return;
          // A retry sent while this one was still on its way: only one of them is logged.
          if (!(await store.recordSentTxn(userId, channel.id, request.txn_id, seq))) throw new RetriedTxn();
        },
      });
      let event: ChatEvent;
      try {
        event = await logged;
      } catch (error) {
        const first = error instanceof RetriedTxn ? await earlierEvent() : undefined;
        if (first) return first;
        throw error;
      }
      if (isPost) {
        await settings.posted(channel, userId, now);
        await notifications.mentioned(channel, event, mentions);
      }
      return event;
    },
  };
}
