// The shapes Parley puts on the wire for users and channel events, with the server's branded ids.
// The definitions live in ./wire.ts, shared with the client SDK.
import type { ChannelName, EventSeq, UserId } from "./ids.ts";
import type * as Wire from "./wire.ts";

/** The server's ids: a mixed-up channel name and user id is a compile error here. */
export interface ServerIds {
  readonly user: UserId;
  readonly channel: ChannelName;
  readonly seq: EventSeq;
}

export type {
  FileRef,
  MembershipKind,
  MessageContent,
  Profile,
  RequiredClaim,
  Role,
  SettingsView,
  TextualType,
} from "./wire.ts";
export type UserView = Wire.UserView<ServerIds>;
export type Reactions = Wire.Reactions<ServerIds>;
export type ReactionContent = Wire.ReactionContent<ServerIds>;
export type MemberContent = Wire.MemberContent<ServerIds>;
export type ChatEvent = Wire.ChatEvent<ServerIds>;
export type ChatEventType = Wire.ChatEventType;
export type MemberView = Wire.MemberView<ServerIds>;
export type ChannelSnapshot = Wire.ChannelSnapshot<ServerIds>;
export type MemberList = Wire.MemberList<ServerIds>;
export type FetchResult = Wire.FetchResult<ServerIds>;
export type Authenticated = Wire.Authenticated<ServerIds>;
export type MediaPage = Wire.MediaPage<ServerIds>;
