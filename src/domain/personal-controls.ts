// Personal controls. Blocking someone stops them from starting or writing direct messages to you;
// ignoring someone stops their messages from reaching you (on the fan-out path and in fetch), and
// is mirrored to Matrix as the puppet's m.ignored_user_list.
import type { Logger } from "../logging.ts";
import { ProtocolError } from "../protocol/errors.ts";
import type { UserId } from "../protocol/ids.ts";
import type { MatrixPort } from "./ports/matrix.ts";
import type { ControlKind, Store } from "./ports/store.ts";
import { retryWhenRateLimited } from "./retry.ts";

export interface PersonalControls {
  set(userId: UserId, other: UserId, kind: ControlKind, on: boolean): Promise<void>;
  list(userId: UserId, kind: ControlKind): Promise<UserId[]>;
  blocks(userId: UserId, other: UserId): Promise<boolean>;
  /** Who ignores `sender` (their messages do not reach them); kept per sender, not per listener. */
  ignorersOf(sender: UserId): Promise<ReadonlySet<UserId>>;
  /** Drops what is cached of who ignores `userId` (another node changed it). */
  forgetIgnorersOf(userId: UserId): void;
  forgetAllIgnorers(): void;
}

const IGNORERS_CACHED = 10_000;

export function createPersonalControls(
  store: Store,
  matrix: MatrixPort,
  log: Logger,
  ignoresChanged: (userId: UserId) => void = () => undefined,
): PersonalControls {
  // Senders met recently, with who ignores them: a live event has few senders and many listeners.
  const ignorers = new Map<UserId, ReadonlySet<UserId>>();
  const ignorersOf = async (sender: UserId): Promise<ReadonlySet<UserId>> => {
    let set = ignorers.get(sender);
    if (!set) {
      set = new Set(await store.controllersOf(sender, "ignore"));
      ignorers.set(sender, set);
      if (ignorers.size > IGNORERS_CACHED) {
        const oldest = ignorers.keys().next().value;
        if (oldest !== undefined) ignorers.delete(oldest);
      }
    }
    return set;
  };
  return {
    async set(userId, other, kind, on) {
      if (other === userId)
        throw new ProtocolError("protocol.invalid_payload", "You cannot do that to yourself.", {
          fields: ["id"],
        });
      await store.setControl(userId, other, kind, on);
      if (kind !== "ignore") return;
      ignorers.delete(other);
      ignoresChanged(other);
      const ignored = await store.controlled(userId, "ignore");
      // Parley's own filter applies at once; the Matrix copy, for the puppet's other clients,
      // follows in the background.
      retryWhenRateLimited(() =>
        matrix.updateAccountData(userId, "m.ignored_user_list", () => ({
          ignored_users: Object.fromEntries(ignored.map((id) => [id, {}])),
        })),
      ).catch((error: unknown) => log.warn(`mirroring ${userId}'s ignore list to Matrix failed`, error));
    },
    list: (userId, kind) => store.controlled(userId, kind),
    blocks: async (userId, other) => (await store.controlled(userId, "block")).includes(other),
    ignorersOf,
    forgetIgnorersOf(userId) {
      ignorers.delete(userId);
    },
    forgetAllIgnorers() {
      ignorers.clear();
    },
  };
}
