// A ban, or a kick from a channel that is not public, also ends the removed user's live
// subscriptions there: they would otherwise keep reading a channel they were put out of. Runs on
// every node for every newly logged event, after it was pushed there.
import { pushFrame } from "../protocol/frames.ts";
import type { EventPublisher } from "./event-log.ts";
import type { LocalFanOut } from "./ports/fanout.ts";
import { presenceKey } from "./presence.ts";

export function endSubscriptionsOfRemoved(fanout: LocalFanOut): EventPublisher {
  return (channel, event) => {
    if (event.event_type !== "channel.member" || event.content.by === undefined) return;
    const { membership, user } = event.content;
    if (membership !== "ban" && !(membership === "leave" && channel.joinRule !== "public")) return;
    const reason = membership === "ban" ? "banned" : "removed from this channel";
    fanout.unsubscribeUserHere(
      channel.name,
      user.id,
      pushFrame("chat.unsubscribed", { channel: channel.name, reason }),
    );
    // Their presence pushes for the channel end with it (told as "nothing more").
    fanout.unsubscribeUserHere(
      presenceKey(channel.name),
      user.id,
      pushFrame("chat.presence", { channel: channel.name, users: {} }),
    );
  };
}
