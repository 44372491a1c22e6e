// The wire types, from the protocol's single source (./protocol.ts, generated from the server's
// src/protocol/wire.ts), with the names this SDK has always used.
import type { MemberView, UserView, ChannelSnapshot as WireChannelSnapshot } from "./protocol.ts";

export type {
  Authenticated,
  ChatEvent,
  DirectoryEntry,
  DirectoryPage,
  FetchResult,
  FileRef,
  MediaPage,
  MemberList,
  MessageContent,
  Profile,
  ReactionChange,
  Reactions,
  Role,
  SettingsView,
  UserSearchPage,
} from "./protocol.ts";

export type User = UserView;
export type Member = MemberView;
export type ChannelSnapshot = WireChannelSnapshot;
export type ChannelState = WireChannelSnapshot["state"];

/** What `Channel.setSettings` may change (`chat.settings`). */
export interface ChannelSettingsChange {
  readonly slow_mode?: number;
  readonly rules?: string | null;
  readonly rules_required?: boolean;
  readonly guests?: boolean;
  readonly required_claim?: { readonly name: string; readonly value: string | number | boolean } | null;
  /** "before": files from users below moderator are held until a moderator marks them. */
  readonly media_review?: "off" | "before";
  /** Owners: a live event is on (shown in the directory). */
  readonly live?: boolean;
}
