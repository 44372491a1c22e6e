// Presence (PROTOCOL.md section 9): what a user looks like to others. A native user is offline
// without an open connection; connected, they are what they chose (online by default; invisible
// looks offline). A Matrix user is what their homeserver last reported, or online while recently
// active. Changes reach subscribers who asked (`chat.subscribe {"presence": true}`) as one
// `chat.presence` push per channel per second at most.
import type { Logger } from "../logging.ts";
import { pushFrame } from "../protocol/frames.ts";
import type { ChannelName, UserId } from "../protocol/ids.ts";
import { guarded } from "../shared/guard.ts";
import type { Activity } from "./activity.ts";
import type { FanOut } from "./ports/fanout.ts";
import type { Store } from "./ports/store.ts";

export const CHOSEN_STATUSES = ["online", "away", "dnd", "invisible"] as const;
export type ChosenStatus = (typeof CHOSEN_STATUSES)[number];
/** What others see. */
export type SeenStatus = "online" | "away" | "dnd" | "offline";
/** How Matrix says it. */
export type MatrixPresence = "online" | "unavailable" | "offline";

/** A channel's presence pushes travel on their own fan-out key: only subscribers who asked hear them. */
export const presenceKey = (channel: ChannelName): ChannelName => `presence/${channel}` as ChannelName;

const PUSH_EVERY_MS = 1_000;

export interface Presence {
  /** `user.presence`: the status the user chose, kept until they choose another. */
  choose(userId: UserId, status: ChosenStatus): Promise<void>;
  /** The chosen status of each of `userIds`, in one read. */
  chosenOf(userIds: readonly UserId[]): Promise<Map<UserId, ChosenStatus>>;
  /** How each of `userIds` looks to others now. */
  seen(userIds: readonly UserId[]): Promise<Record<string, SeenStatus>>;
  isDoNotDisturb(userId: UserId): Promise<boolean>;
  /** A Matrix user's presence as their homeserver reported it. */
  fromMatrix(userId: UserId, presence: string): Promise<void>;
  /** Something about the user's presence changed (a connection came or went): tell their channels. */
  changed(userId: UserId): void;
  start(): void;
  stop(): void;
}

export interface PresenceDeps {
  readonly store: Store;
  readonly activity: Pick<Activity, "onlineAmong">;
  readonly fanout: Pick<FanOut, "publish">;
  readonly isNative: (userId: UserId) => boolean;
  readonly log: Logger;
}

const isChosen = (status: string | undefined): status is ChosenStatus =>
  (CHOSEN_STATUSES as readonly string[]).includes(status ?? "");

const fromMatrixPresence = (presence: string): SeenStatus | undefined =>
  presence === "online"
    ? "online"
    : presence === "unavailable"
      ? "away"
      : presence === "offline"
        ? "offline"
        : undefined;

/** How a native user's chosen status shows on Matrix while they are connected. */
export const matrixPresenceOf = (status: ChosenStatus): { presence: MatrixPresence; statusMsg?: string } =>
  status === "online"
    ? { presence: "online" }
    : status === "away"
      ? { presence: "unavailable" }
      : status === "dnd"
        ? { presence: "unavailable", statusMsg: "Do not disturb" }
        : { presence: "offline" };

export function createPresence(deps: PresenceDeps): Presence {
  const { store, activity, fanout, isNative, log } = deps;
  /** Channels with presence changes to push, and whose. */
  const dirty = new Map<ChannelName, Set<UserId>>();
  let timer: NodeJS.Timeout | undefined;

  const chosenOf = async (userIds: readonly UserId[]): Promise<Map<UserId, ChosenStatus>> => {
    const stored = await store.presenceOf(userIds);
    return new Map(
      userIds.map((userId) => {
        const status = stored.get(userId)?.status;
        return [userId, isChosen(status) ? status : "online"];
      }),
    );
  };
  const seen = async (userIds: readonly UserId[]): Promise<Record<string, SeenStatus>> => {
    const online = await activity.onlineAmong(userIds);
    const stored = await store.presenceOf(userIds);
    const result: Record<string, SeenStatus> = {};
    for (const userId of userIds) {
      const status = stored.get(userId)?.status;
      if (isNative(userId)) {
        const chosen = isChosen(status) ? status : "online";
        result[userId] = !online.has(userId) || chosen === "invisible" ? "offline" : chosen;
      } else {
        const reported = status === undefined ? undefined : fromMatrixPresence(status);
        result[userId] = reported ?? (online.has(userId) ? "online" : "offline");
      }
    }
    return result;
  };

  const changed = (userId: UserId) => {
    store
      .channelsJoinedBy(userId)
      .then((channels) => {
        for (const channel of channels) {
          const users = dirty.get(channel.name) ?? new Set<UserId>();
          users.add(userId);
          dirty.set(channel.name, users);
        }
      })
      .catch((error: unknown) => log.warn(`presence of ${userId} not pushed`, error));
  };

  const push = async () => {
    const batch = [...dirty];
    dirty.clear();
    for (const [channel, users] of batch) {
      fanout.publish(
        presenceKey(channel),
        pushFrame("chat.presence", { channel, users: await seen([...users]) }),
      );
    }
  };

  return {
    async choose(userId, status) {
      await store.setPresence(userId, status, Date.now());
      changed(userId);
    },
    chosenOf,
    seen,
    async isDoNotDisturb(userId) {
      return (await store.presenceOf([userId])).get(userId)?.status === "dnd";
    },
    async fromMatrix(userId, presence) {
      if (isNative(userId) || fromMatrixPresence(presence) === undefined) return;
      const before = (await store.presenceOf([userId])).get(userId)?.status;
      if (before === presence) return;
      await store.setPresence(userId, presence, Date.now());
      changed(userId);
    },
    changed,
    start() {
      timer ??= setInterval(guarded(log, "pushing presence", push), PUSH_EVERY_MS);
      timer.unref();
    },
    stop() {
      clearInterval(timer);
      timer = undefined;
    },
  };
}
