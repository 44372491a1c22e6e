// Personal controls. Blocking someone stops them from starting or writing direct messages to you;
// ignoring someone stops their messages from reaching you (on the fan-out path and in fetch), and
// is mirrored to Matrix as the puppet's m.ignored_user_list.
import type { Logger } from "../logging.ts";
import { ProtocolError } from "../protocol/errors.ts";
import type { ChatEvent } from "../protocol/events.ts";
import type { UserId } from "../protocol/ids.ts";
import type { MatrixPort } from "./matrix-port.ts";
import type { Relation, Store } from "./store-port.ts";

export interface Relations {
  set(userId: UserId, other: UserId, relation: Relation, on: boolean): Promise<void>;
  list(userId: UserId, relation: Relation): UserId[];
  blocks(userId: UserId, other: UserId): boolean;
  /** Whether `listener` ignores this event's sender's messages. Must not block: fan-out path. */
  hides(listener: UserId, event: ChatEvent): boolean;
}

export function createRelations(store: Store, matrix: MatrixPort, log: Logger): Relations {
  const ignoring = new Map<UserId, Set<UserId>>();
  const ignoredBy = (listener: UserId) => {
    let set = ignoring.get(listener);
    if (!set) {
      set = new Set(store.related(listener, "ignore"));
      ignoring.set(listener, set);
    }
    return set;
  };
  return {
    async set(userId, other, relation, on) {
      if (other === userId)
        throw new ProtocolError("protocol.invalid_payload", "You cannot do that to yourself.", {
          fields: ["id"],
        });
      store.setRelation(userId, other, relation, on);
      if (relation !== "ignore") return;
      ignoring.delete(userId);
      const ignored = store.related(userId, "ignore");
      try {
        await matrix.updateAccountData(userId, "m.ignored_user_list", () => ({
          ignored_users: Object.fromEntries(ignored.map((id) => [id, {}])),
        }));
      } catch (error) {
        // Parley's own filter already applies; the Matrix copy is for the puppet's other clients.
        log.warn(`mirroring ${userId}'s ignore list to Matrix failed`, error);
      }
    },
    list: (userId, relation) => store.related(userId, relation),
    blocks: (userId, other) => store.related(userId, "block").includes(other),
    hides: (listener, event) =>
      event.event_type === "channel.message" &&
      event.sender !== undefined &&
      ignoredBy(listener).has(event.sender),
  };
}
