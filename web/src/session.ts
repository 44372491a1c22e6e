// What every part of the page shares: the client, who we are, the names and presence we have
// learned of people, and the page's mode.
import type { ParleyClient, User } from "../../packages/client/src/index.ts";

export type Presence = "online" | "away" | "dnd" | "offline";

export class People {
  readonly #names = new Map<string, string>();
  readonly #presence = new Map<string, Presence>();
  readonly #avatars = new Map<string, string>();

  remember(user: User): void {
    if (user.profile.display_name) this.#names.set(user.id, user.profile.display_name);
    const avatar = mediaPath(user.profile.avatar_url);
    if (avatar) this.#avatars.set(user.id, avatar);
    else if (user.profile.avatar_url === null) this.#avatars.delete(user.id);
  }

  /** Where the page loads someone's picture from (Parley's media route), if they have one. */
  avatar(id: string | null | undefined): string | undefined {
    return id ? this.#avatars.get(id) : undefined;
  }

  rememberAll(users: Iterable<User>): void {
    for (const user of users) this.remember(user);
  }

  /** The display name, or the id's local part without the puppet prefix as a last resort. */
  name(id: string | null | undefined): string {
    if (!id) return "Someone";
    return this.#names.get(id) ?? id.replace(/^@/, "").replace(/:.*$/, "");
  }

  known(id: string): boolean {
    return this.#names.has(id);
  }

  setPresence(id: string, status: string): void {
    this.#presence.set(id, status === "unavailable" ? "away" : (status as Presence));
  }

  presence(id: string): Presence {
    return this.#presence.get(id) ?? "offline";
  }
}

export interface Session {
  readonly client: ParleyClient;
  readonly people: People;
  /** `?embed=1`: one channel, no chrome, for a live-event player's page. */
  readonly embed: boolean;
  me(): User | undefined;
  /** Shows a short-lived error under the composer. */
  fail(error: unknown): void;
}

/** An mxc:// URI as Parley's own media route serves it (the page may load nothing else). */
export function mediaPath(uri: string | null | undefined): string | undefined {
  const match = /^mxc:\/\/([A-Za-z0-9.:-]{1,255})\/([A-Za-z0-9_-]{1,255})$/.exec(uri ?? "");
  return match ? `/media/${match[1]}/${match[2]}` : undefined;
}

/** Someone's picture, or their initial on their colour when they have none (or it fails to load). */
export function avatarElement(people: People, id: string, name: string, small = false): HTMLElement {
  const initial = document.createElement("span");
  initial.className = small ? "avatar small" : "avatar";
  initial.setAttribute("aria-hidden", "true");
  initial.textContent = name.slice(0, 1).toUpperCase();
  const url = people.avatar(id);
  if (!url) return initial;
  const picture = document.createElement("img");
  picture.className = initial.className;
  picture.alt = "";
  picture.src = url;
  picture.loading = "lazy";
  picture.addEventListener("error", () => picture.replaceWith(initial));
  return picture;
}

/** A colour for someone's name and avatar, the same for them on every page. */
export function hueOf(id: string): number {
  // FNV-1a: ids that differ in a few characters still land far apart.
  let hash = 0x811c9dc5;
  for (const char of id) hash = Math.imul(hash ^ (char.codePointAt(0) ?? 0), 0x01000193);
  return (hash >>> 0) % 360;
}
