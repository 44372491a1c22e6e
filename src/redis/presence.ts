// Who is connected where, across nodes: each node keeps the set of users with a connection to it
// in Redis, and a heartbeat key; both expire unless the node refreshes them, so a node that dies
// stops counting its users within NODE_TTL_MS. After a Redis restart the next heartbeat writes
// the whole set again.
import type { Redis } from "ioredis";
import type { Logger } from "../logging.ts";
import type { UserId } from "../protocol/ids.ts";
import { KEY_PREFIX, orElse, throttledWarn } from "./client.ts";

export const NODE_TTL_MS = 15_000;
const HEARTBEAT_MS = 5_000;

export interface Presence {
  /** The user's first connection to this node opened. */
  connected(userId: UserId): void;
  /** The user's last connection to this node closed. */
  disconnected(userId: UserId): void;
  onlineAmong(userIds: readonly UserId[]): Promise<Set<UserId>>;
  stop(): Promise<void>;
}

export function createPresence(redis: Redis, nodeId: string, log: Logger): Presence {
  const warn = throttledWarn(log);
  const nodes = `${KEY_PREFIX}nodes`;
  const alive = (node: string) => `${KEY_PREFIX}node:${node}`;
  const online = (node: string) => `${KEY_PREFIX}online:${node}`;
  const here = new Set<UserId>();

  const heartbeat = async () => {
    const batch = redis.multi().set(alive(nodeId), String(Date.now()), "PX", NODE_TTL_MS).sadd(nodes, nodeId);
    // The whole set each time: cheap for one node's users, and it heals a Redis restart.
    batch.del(online(nodeId));
    if (here.size > 0) batch.sadd(online(nodeId), ...here);
    batch.pexpire(online(nodeId), NODE_TTL_MS);
    await batch.exec();
  };
  const beat = () => {
    heartbeat().catch((error: unknown) => warn("redis: presence heartbeat failed", error));
  };
  beat();
  const timer = setInterval(beat, HEARTBEAT_MS);
  timer.unref();

  return {
    connected(userId) {
      here.add(userId);
      redis
        .sadd(online(nodeId), userId)
        .catch((error: unknown) => warn("redis: presence not recorded", error));
    },
    disconnected(userId) {
      here.delete(userId);
      redis
        .srem(online(nodeId), userId)
        .catch((error: unknown) => warn("redis: presence not removed", error));
    },
    async onlineAmong(userIds) {
      const found = new Set<UserId>(userIds.filter((id) => here.has(id)));
      if (userIds.length === 0) return found;
      return orElse(
        async () => {
          for (const node of await redis.smembers(nodes)) {
            if (node === nodeId) continue;
            if ((await redis.exists(alive(node))) === 0) {
              await redis.srem(nodes, node);
              continue;
            }
            const flags = await redis.smismember(online(node), ...userIds);
            flags.forEach((flag, i) => {
              const id = userIds[i];
              if (flag === 1 && id !== undefined) found.add(id);
            });
          }
          return found;
        },
        found,
        warn,
        "reading who is online elsewhere",
      );
    },
    async stop() {
      clearInterval(timer);
      await redis
        .multi()
        .del(alive(nodeId), online(nodeId))
        .srem(nodes, nodeId)
        .exec()
        .catch(() => undefined);
    },
  };
}
