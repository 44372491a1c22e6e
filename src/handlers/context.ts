// What a handler sees: its session (never the socket) and the domain services.
import type { z } from "zod";
import type { Authenticator } from "../auth/jwt.ts";
import type { Activity } from "../domain/activity.ts";
import type { Admission } from "../domain/admission.ts";
import type { Channels } from "../domain/channels.ts";
import type { Direct } from "../domain/direct.ts";
import type { Directory } from "../domain/directory.ts";
import type { History } from "../domain/history.ts";
import type { Webhooks } from "../domain/integrations/webhooks.ts";
import type { Media } from "../domain/media.ts";
import type { Membership } from "../domain/membership.ts";
import type { Messages } from "../domain/messages.ts";
import type { Admin } from "../domain/moderation/admin.ts";
import type { Audiences } from "../domain/moderation/audiences.ts";
import type { Gatekeeper } from "../domain/moderation/gatekeeper.ts";
import type { MediaReview } from "../domain/moderation/media-review.ts";
import type { ModChannels } from "../domain/moderation/mod-channels.ts";
import type { Moderation } from "../domain/moderation/moderation.ts";
import type { Settings } from "../domain/moderation/settings.ts";
import type { Naming } from "../domain/naming.ts";
import type { PersonalControls } from "../domain/personal-controls.ts";
import type { UserStatus } from "../domain/ports/store.ts";
import type { Presence } from "../domain/presence.ts";
import type { MirroredFanOut } from "../domain/presence-mirror.ts";
import type { Reactions } from "../domain/reactions.ts";
import type { ReadState } from "../domain/read-state.ts";
import type { Typing } from "../domain/typing.ts";
import type { Users } from "../domain/users.ts";
import type { ChannelName, UserId } from "../protocol/ids.ts";

/** The user behind a connection: the actor of everything it asks for. */
export interface AuthUser {
  readonly userId: UserId;
  readonly isGuest: boolean;
  readonly admin: boolean;
  /** The client's address, for per-address limits. */
  readonly address: string;
}

export interface Session {
  readonly connectionId: number;
  /** The client's address (behind a trusted proxy, the one it reported). */
  readonly address: string;
  readonly user: AuthUser | undefined;
  /** Marks the connection authenticated; from then on it can receive user-addressed pushes. */
  authenticate(user: AuthUser, options?: { batchMemberEvents?: boolean }): void;
  subscribe(channel: ChannelName): void;
  unsubscribe(channel: ChannelName): void;
  isSubscribed(channel: ChannelName): boolean;
}

export interface Services {
  readonly authenticator: Authenticator;
  readonly admission: Admission;
  readonly channels: Channels;
  readonly history: History;
  readonly reactions: Reactions;
  readonly media: Media;
  readonly moderation: Moderation;
  readonly direct: Direct;
  readonly personalControls: PersonalControls;
  readonly settings: Settings;
  readonly audiences: Audiences;
  readonly modChannels: ModChannels;
  readonly mediaReview: MediaReview;
  readonly admin: Admin;
  readonly naming: Naming;
  readonly gatekeeper: Gatekeeper;
  readonly moderationStatus: (userId: UserId) => Promise<UserStatus>;
  readonly typing: Typing;
  readonly readState: ReadState;
  readonly activity: Activity;
  readonly users: Users;
  readonly membership: Membership;
  readonly messages: Messages;
  readonly fanout: MirroredFanOut;
  readonly webhooks: Webhooks;
  readonly presence: Presence;
  readonly directory: Directory;
}

export interface HandlerContext {
  readonly session: Session;
  readonly user: AuthUser;
  readonly services: Services;
}

/** The per-user rate limits an action draws on besides the general request budget. */
export type ActionLimit = "messages";

export interface Action<S extends z.ZodType> {
  readonly schema: S;
  readonly limit?: ActionLimit | undefined;
  handle(ctx: HandlerContext, payload: z.infer<S>): Promise<unknown>;
}

export const action = <S extends z.ZodType>(
  schema: S,
  handle: (ctx: HandlerContext, payload: z.infer<S>) => Promise<unknown>,
  limit?: ActionLimit,
): Action<S> => ({ schema, handle, limit });
