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

export type MembershipKind = "join" | "leave" | "ban";

export interface FileRef {
  /** An HTTP(S) URL a client can load; Parley's own media URLs map to the homeserver's media. */
  readonly url: string;
  readonly name: string;
  readonly mimeType: string;
}

export type TextualType = "text" | "emote" | "notice";

export type MessageContent =
  | { readonly type: TextualType; readonly body: string }
  | { readonly type: "files"; readonly files: readonly FileRef[]; readonly body?: string }
  | { readonly type: "deleted" };

/** Who reacted with what: reaction key -> user ids, in the order they reacted. */
export type Reactions = Readonly<Record<string, readonly UserId[]>>;

export interface ReactionContent {
  /** The event_id of the message reacted to. */
  readonly event: EventSeq;
  readonly reactions: Reactions;
}

export interface MemberContent {
  readonly membership: MembershipKind;
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
  /** The message this one answers. */
  readonly reply_to?: EventSeq;
  /** The message this one edits or deletes. */
  readonly replaces?: EventSeq;
  /** Set on a message whose content a later edit or delete replaced (as fetched). */
  readonly edited?: true;
  /** On fetched messages that have reactions. */
  readonly reactions?: Reactions;
}

export type ChatEvent =
  | (EventBase & { readonly event_type: "channel.message"; readonly content: MessageContent })
  | (EventBase & { readonly event_type: "channel.member"; readonly content: MemberContent })
  | (EventBase & { readonly event_type: "channel.reaction"; readonly content: ReactionContent });

export type ChatEventType = ChatEvent["event_type"];
