// Server pushes -> the client's channels: events into their exactly-once streams, and the
// notices (typing, moderation, settings, unsubscribed, send failures) straight to the channel's
// listeners.
import type { Channel } from "./channel.ts";
import type { ChatEvent, Reactions, User } from "./types.ts";

export interface PushTarget {
  /** Through the channel's stream, for exactly-once, in-order delivery. */
  deliver(event: ChatEvent): void;
  channel(name: string): Channel;
  /** The server ended a subscription: stop recovering it. */
  forget(name: string): void;
  userUpdated(user: User): void;
  /** A notification the platform's backend sent this user (server API `notify`). */
  serverNotify(payload: Record<string, unknown>): void;
  now(): number;
}

export function routePush(action: string, payload: unknown, target: PushTarget): void {
  const body = (payload ?? {}) as Record<string, unknown>;
  const channel = typeof body.channel === "string" ? target.channel(body.channel) : undefined;
  switch (action) {
    case "chat.event":
      target.deliver(payload as ChatEvent);
      return;
    case "chat.events":
      for (const event of (body.events as ChatEvent[] | undefined) ?? []) target.deliver(event);
      return;
    case "chat.event.reaction":
      // A reaction change is a logged event too: it goes through the stream like the others.
      target.deliver({
        channel: body.channel as string,
        event_type: "channel.reaction",
        content: { event: body.event as number, reactions: (body.reactions ?? {}) as Reactions },
        event_id: body.event_id as number,
        ts: target.now(),
        ...(typeof body.sender === "string" ? { sender: body.sender } : {}),
      });
      return;
    case "chat.event.update":
      // Not a new event: a logged one as it now is, straight to the channel's listeners.
      channel?.notify("update", payload as ChatEvent);
      return;
    case "server.notify":
      target.serverNotify(body);
      return;
    case "chat.typing":
      channel?.notify("typing", (body.users as string[] | undefined) ?? []);
      return;
    case "chat.moderation":
      channel?.notify("moderation", body);
      return;
    case "chat.presence":
      channel?.notify("presence", (body.users ?? {}) as Record<string, string>);
      return;
    case "chat.state":
      channel?.notify("state", {
        topic: (body.topic ?? null) as string | null,
        room_name: (body.room_name ?? null) as string | null,
        avatar_url: (body.avatar_url ?? null) as string | null,
        by: String(body.by ?? ""),
      });
      return;
    case "chat.settings":
      channel?.notify("settings", body);
      return;
    case "chat.send.failed":
      channel?.notify("sendFailed", {
        event_id: Number(body.event_id),
        code: String(body.code ?? ""),
        message: String(body.message ?? ""),
      });
      return;
    case "chat.unsubscribed":
      if (channel) {
        target.forget(channel.name);
        channel.notify("unsubscribed", { reason: String(body.reason ?? "") });
      }
      return;
    case "user.updated":
      target.userUpdated(payload as User);
      return;
  }
}
