// The wire types, as documented in Parley's protocol reference.
export interface Profile {
  readonly display_name: string | null;
  readonly avatar_url: string | null;
}

export interface User {
  readonly id: string;
  readonly profile: Profile;
}

export type Role = "owner" | "moderator" | "user";

export type Member = User & { readonly role?: Role };

export interface FileRef {
  readonly url: string;
  readonly name: string;
  readonly mimeType: string;
}

export type MessageContent =
  | { readonly type: "text" | "emote" | "notice"; readonly body: string }
  | { readonly type: "files"; readonly files: readonly FileRef[]; readonly body?: string }
  | { readonly type: "deleted" };

export type Reactions = Readonly<Record<string, readonly string[]>>;

export interface ChatEvent {
  readonly channel: string;
  readonly event_type: "channel.message" | "channel.member" | "channel.reaction" | (string & {});
  readonly content: Record<string, unknown>;
  readonly sender?: string;
  readonly event_id: number;
  readonly ts: number;
  readonly reply_to?: number;
  readonly replaces?: number;
  readonly edited?: true;
  readonly reactions?: Reactions;
}

export interface ChannelState {
  readonly name: string;
  readonly room_id: string;
  readonly alias: string;
  readonly role?: "owner" | "moderator" | "user";
  readonly rules?: string | null;
  readonly settings?: Record<string, unknown>;
}

export interface ChannelSnapshot {
  readonly state: ChannelState;
  readonly next_event_id: number;
  readonly members: Member[];
}

export interface Authenticated {
  readonly user: User;
  readonly "chat.channels": Array<{ id: string; unread_pointer: number }>;
  readonly "chat.read_pointers": Record<string, number>;
  readonly "chat.notification_counts": Record<string, number>;
}

export interface FetchResult {
  readonly results: ChatEvent[];
  readonly users: Record<string, User>;
}

export interface MemberList {
  readonly members: Member[];
  readonly online: string[];
  readonly seen: Array<{ id: string; last_seen: number }>;
}

export interface ReactionChange {
  readonly channel: string;
  readonly event: number;
  readonly reactions: Reactions;
  readonly event_id: number;
  readonly sender?: string;
}

export interface MediaPage {
  readonly items: Array<{
    readonly event_id: number;
    readonly sender: string | null;
    readonly ts: number;
    readonly kind: "file" | "link";
    readonly url: string;
    readonly name?: string;
    readonly mimeType?: string;
  }>;
  readonly next_before_id: number | null;
}

export interface ChannelSettingsChange {
  readonly slow_mode?: number;
  readonly rules?: string | null;
  readonly rules_required?: boolean;
  readonly guests?: boolean;
  readonly required_claim?: { readonly name: string; readonly value: string | number | boolean } | null;
}
