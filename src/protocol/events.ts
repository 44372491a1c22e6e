// The shapes Parley puts on the wire for users and channel events.
import type { ChannelName, EventSeq, UserId } from "./ids.ts";

export interface Profile {
  readonly display_name: string | null;
  readonly avatar_url: string | null;
}

export interface UserView {
  readonly id: UserId;
  readonly profile: Profile;
}

export type Membership = "join" | "leave" | "ban";

export interface MessageContent {
  readonly type: "text" | "emote" | "notice";
  readonly body: string;
}

export interface MemberContent {
  readonly membership: Membership;
  readonly user: UserView;
  readonly reason?: string;
  readonly by?: UserId;
}

interface EventBase {
  readonly channel: ChannelName;
  readonly sender?: UserId;
  readonly event_id: EventSeq;
  /** Milliseconds since the epoch, from the homeserver. */
  readonly ts: number;
}

export type ChatEvent =
  | (EventBase & { readonly event_type: "channel.message"; readonly content: MessageContent })
  | (EventBase & { readonly event_type: "channel.member"; readonly content: MemberContent });

export type ChatEventType = ChatEvent["event_type"];
