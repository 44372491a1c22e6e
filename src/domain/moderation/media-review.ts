// Media review: moderators mark a message's files (`chat.media.mark`): NSFW or not, and either way
// approved. In a channel whose `media_review` is "before", files from users below moderator are
// logged held (`pending_review`: heard only by moderators and the sender, see hearing.ts) and a
// native one is not mirrored to Matrix; the mark releases it, queues its mirror (as the message
// is then, edits included), and everyone who hears it gets `chat.event.update`. A moderator
// rejects a held message by deleting it: the delete is held with it, so nobody else hears of it.
import { ProtocolError } from "../../protocol/errors.ts";
import type { ChatEvent, MessageContent } from "../../protocol/events.ts";
import { asEventSeq, type ChannelName } from "../../protocol/ids.ts";
import type { Actor } from "../actor.ts";
import type { Channels } from "../channels.ts";
import { toChatEvent } from "../event-log.ts";
import { mentionsIn, recipientsOf } from "../message-content.ts";
import type { Naming } from "../naming.ts";
import type { Outbox } from "../outbox.ts";
import type { ChannelRow, Store, StoredEvent } from "../ports/store.ts";
import type { Roles } from "./roles.ts";

export interface MediaReview {
  /** Marks the message's files (`nsfw`) and releases it if it was held; returns it as it now is. */
  mark(actor: Actor, channel: ChannelName, seq: number, nsfw: boolean): Promise<ChatEvent>;
}

export interface MediaReviewDeps {
  readonly store: Store;
  readonly channels: Channels;
  readonly roles: Roles;
  readonly naming: Naming;
  readonly mirrors: Pick<Outbox, "enqueue" | "wake">;
  /** Pushes `chat.event.update` to the subscribers who hear the event, on every node. */
  readonly updated: (channel: ChannelRow, event: ChatEvent) => void;
}

const hasFiles = (event: StoredEvent | undefined): event is StoredEvent =>
  event?.eventType === "channel.message" && (event.content as MessageContent).type === "files";

export function createMediaReview(deps: MediaReviewDeps): MediaReview {
  const { store, channels, roles, naming, mirrors, updated } = deps;
  const unknown = (channel: ChannelRow, seq: number) =>
    new ProtocolError("chat.unknown_event", `No message with files ${seq} in ${channel.name}.`, {
      fields: ["event"],
    });

  return {
    async mark(actor, name, seq, nsfw) {
      const channel = await channels.get(name, actor);
      if (!roles.canModerate(channel, actor.userId, actor.admin)) {
        throw new ProtocolError("chat.denied", "Only moderators and owners can mark media.");
      }
      if (!hasFiles(await store.eventBySeq(channel.id, asEventSeq(seq)))) throw unknown(channel, seq);
      const { event, mirrored } = await store.transaction(async () => {
        // With the log held: an edit or delete of the message lands before or after, not during.
        await store.holdChannelLog(channel.id);
        const before = await store.eventBySeq(channel.id, asEventSeq(seq));
        if (!hasFiles(before)) throw unknown(channel, seq);
        const released = await store.markMedia(channel.id, before.seq, nsfw);
        // A held native post goes to Matrix now, once (only one mark releases it), as it is now.
        const mirror =
          released &&
          before.matrixEventId === null &&
          before.sender !== null &&
          naming.isNativeUser(before.sender) &&
          // A message to chosen recipients never goes to Matrix, approved or not.
          recipientsOf(before.content) === undefined;
        if (mirror && before.sender !== null) {
          const content = before.content as Extract<MessageContent, { type: "files" }>;
          await mirrors.enqueue(
            channel.id,
            before.seq,
            {
              kind: "message",
              actor: before.sender,
              payload: {
                content,
                replyTo: before.replyTo ?? undefined,
                mentions: mentionsIn(content),
              },
            },
            Date.now(),
          );
        }
        const after = await store.eventBySeq(channel.id, before.seq);
        if (!after) throw unknown(channel, seq);
        return { event: toChatEvent(channel, after), mirrored: mirror };
      });
      updated(channel, event);
      if (mirrored) mirrors.wake(channel.id);
      return event;
    },
  };
}
