// Undoing, natively, a native action the homeserver refused for good (see outbox.ts): the native
// world goes back to agreeing with Matrix. A message is deleted, an edit or delete restores the
// content before it, a reaction is taken back (or restored), a join becomes a leave, a kick or ban
// restores the membership before it. Each undo is logged and pushed like any event, and mirrors
// nothing: Matrix never saw what it undoes.
import type { Logger } from "../logging.ts";
import type { MessageContent } from "../protocol/events.ts";
import { asEventSeq, type UserId } from "../protocol/ids.ts";
import type { EventLog } from "./event-log.ts";
import type { OutboxPayload, Withdraw } from "./outbox.ts";
import type { ChannelRow, OutboxEntry, Store } from "./ports/store.ts";
import { reactionEntry } from "./reactions.ts";
import { isShownMembership } from "./room-events.ts";

export function createWithdrawal(deps: { store: Store; eventLog: EventLog; log: Logger }): Withdraw {
  const { store, eventLog, log } = deps;

  const liveMessage = async (channel: ChannelRow, seq: number) => {
    const event = await store.eventBySeq(channel.id, asEventSeq(seq));
    if (event?.eventType !== "channel.message") return undefined;
    return (event.content as MessageContent).type === "deleted" ? undefined : event;
  };

  /** Logs `content` as the current content of message `seq` (a restore, or a delete). */
  const rewrite = (channel: ChannelRow, sender: UserId | null, seq: number, content: MessageContent) =>
    eventLog.recordNative({
      channel,
      sender,
      ts: Date.now(),
      entry: { eventType: "channel.message", content },
      replaces: seq,
      apply: () =>
        content.type === "deleted"
          ? store.deleteContent(channel.id, seq)
          : store.replaceContent(channel.id, seq, content),
    });

  const reactionChange = (channel: ChannelRow, userId: UserId, target: number, change: () => Promise<void>) =>
    eventLog.recordNative({
      channel,
      sender: userId,
      ts: Date.now(),
      entry: reactionEntry(store, channel.id, target),
      apply: change,
    });

  const membership = async (channel: ChannelRow, entry: OutboxEntry) => {
    const p = entry.payload as OutboxPayload["membership"];
    const previous = p.previous ?? "leave";
    const memberChange = {
      channelId: channel.id,
      userId: p.target,
      membership: previous,
      profile: p.profile,
    };
    if (!isShownMembership(previous)) {
      await store.setMember({ ...memberChange, at: Date.now() });
      return;
    }
    await eventLog.recordNative({
      channel,
      sender: null,
      ts: Date.now(),
      entry: {
        eventType: "channel.member",
        content: { membership: previous, user: { id: p.target, profile: p.profile } },
      },
      memberChange: { ...memberChange, at: Date.now() },
    });
  };

  return async (channel, entry) => {
    const actor = entry.actor;
    switch (entry.kind) {
      case "message": {
        const message = entry.seq === null ? undefined : await liveMessage(channel, entry.seq);
        if (message) await rewrite(channel, message.sender, message.seq, { type: "deleted" });
        return;
      }
      case "edit": {
        const p = entry.payload as OutboxPayload["edit"];
        if (await liveMessage(channel, p.original)) await rewrite(channel, actor, p.original, p.previous);
        return;
      }
      case "delete": {
        const p = entry.payload as OutboxPayload["delete"];
        if (p.previous.type !== "deleted") await rewrite(channel, actor, p.original, p.previous);
        return;
      }
      case "react": {
        const p = entry.payload as OutboxPayload["react"];
        if (actor === null || !(await store.findReaction(channel.id, p.target, actor, p.key))) return;
        await reactionChange(channel, actor, p.target, async () => {
          await store.removeReaction(channel.id, p.target, actor, p.key);
        });
        return;
      }
      case "unreact": {
        const p = entry.payload as OutboxPayload["unreact"];
        if (actor === null || !(await liveMessage(channel, p.target))) return;
        if (await store.findReaction(channel.id, p.target, actor, p.key)) return;
        const matrixEventId =
          p.reactionEventId ??
          (p.reactEntry === null ? null : ((await store.outboxEntry(p.reactEntry))?.matrixEventId ?? null));
        await reactionChange(channel, actor, p.target, async () => {
          await store.addReaction({
            channelId: channel.id,
            targetSeq: p.target,
            userId: actor,
            reaction: p.key,
            matrixEventId,
          });
        });
        return;
      }
      case "join": {
        const p = entry.payload as OutboxPayload["join"];
        if (actor === null || (await store.member(channel.id, actor))?.membership !== "join") return;
        await eventLog.recordNative({
          channel,
          sender: actor,
          ts: Date.now(),
          entry: {
            eventType: "channel.member",
            content: { membership: "leave", user: { id: actor, profile: p.profile } },
          },
          memberChange: {
            channelId: channel.id,
            userId: actor,
            membership: "leave",
            profile: p.profile,
            at: Date.now(),
          },
        });
        return;
      }
      case "membership":
        await membership(channel, entry);
        return;
      // A refused leave means the puppet is not in the room: what the user wanted. A refused power
      // level keeps Parley's own rule (timeouts are enforced natively) until the room says otherwise.
      case "receipt":
      case "notice":
      case "room_state":
        return;
      case "leave":
      case "power_level":
        log.warn(`the homeserver refused a ${entry.kind} in ${channel.name}; nothing to undo natively`);
        return;
    }
  };
}
