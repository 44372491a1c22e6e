// Who is acting: a native user as their login says, with what moderation needs to know.
import type { UserId } from "../protocol/ids.ts";

export interface Actor {
  readonly userId: UserId;
  /** A platform admin (JWT `admin: true`): owner rights in every channel. */
  readonly admin: boolean;
  readonly isGuest: boolean;
  /** Where the request came from (the client's address), for per-address limits. */
  readonly address?: string | undefined;
}
