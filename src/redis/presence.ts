// Who is connected where, across nodes: each node keeps its users' connection counts (a hash) in
// Redis, and a heartbeat key; both expire unless the node refreshes them, so a node that dies
// stops counting its users within NODE_TTL_MS. After a Redis restart the next heartbeat writes
// the whole set again.
import type { Redis } from "ioredis";
import type { Logger } from "../logging.ts";
import type { UserId } from "../protocol/ids.ts";
import { KEY_PREFIX, orElse, throttledWarn } from "./client.ts";

export const NODE_TTL_MS = 15_000;
const HEARTBEAT_MS = 5_000;

export interface Presence {
  /** The user now has `connections` connections to this node (0: none left). */
  connections(userId: UserId, connections: number): void;
  onlineAmong(userIds: readonly UserId[]): Promise<Set<UserId>>;
  /** Every user with a connection to a live node. */
  onlineUsers(): Promise<UserId[]>;
  /** The user's connections on other nodes. */
  connectionsElsewhere(userId: UserId): Promise<number>;
  stop(): Promise<void>;
}

export function createPresence(redis: Redis, nodeId: string, log: Logger): Presence {
  const warn = throttledWarn(log);
  const nodes = `${KEY_PREFIX}nodes`;
  const alive = (node: string) => `${KEY_PREFIX}node:${node}`;
  const online = (node: string) => `${KEY_PREFIX}online:${node}`;
  const here = new Map<UserId, number>();

  const heartbeat = async () => {
    const batch = redis.multi().set(alive(nodeId), String(Date.now()), "PX", NODE_TTL_MS).sadd(nodes, nodeId);
    // The whole set each time: cheap for one node's users, and it heals a Redis restart.
    batch.del(online(nodeId));
    if (here.size > 0) batch.hset(online(nodeId), here);
    batch.pexpire(online(nodeId), NODE_TTL_MS);
    await batch.exec();
  };
  /** The other nodes that are alive; dead ones are forgotten on the way. */
  const otherNodes = async () => {
    const others: string[] = [];
    for (const node of await redis.smembers(nodes)) {
      if (node === nodeId) continue;
      if ((await redis.exists(alive(node))) === 0) await redis.srem(nodes, node);
      else others.push(node);
    }
    return others;
  };
  const beat = () => {
    heartbeat().catch((error: unknown) => warn("redis: presence heartbeat failed", error));
  };
  beat();
  const timer = setInterval(beat, HEARTBEAT_MS);
  timer.unref();

  return {
    connections(userId, connections) {
      if (connections > 0) {
        here.set(userId, connections);
        redis
          .hset(online(nodeId), userId, connections)
          .catch((error: unknown) => warn("redis: presence not recorded", error));
      } else {
        here.delete(userId);
        redis
          .hdel(online(nodeId), userId)
          .catch((error: unknown) => warn("redis: presence not removed", error));
      }
    },
    async onlineAmong(userIds) {
      const found = new Set<UserId>(userIds.filter((id) => here.has(id)));
      if (userIds.length === 0) return found;
      return orElse(
        async () => {
          for (const node of await otherNodes()) {
            const counts = await redis.hmget(online(node), ...userIds);
            counts.forEach((count, i) => {
              const id = userIds[i];
              if (count !== null && id !== undefined) found.add(id);
            });
          }
          return found;
        },
        found,
        warn,
        "reading who is online elsewhere",
      );
    },
    async onlineUsers() {
      const found = new Set<UserId>(here.keys());
      return orElse(
        async () => {
          for (const node of await otherNodes()) {
            for (const userId of await redis.hkeys(online(node))) found.add(userId as UserId);
          }
          return [...found];
        },
        [...found],
        warn,
        "reading who is online elsewhere",
      );
    },
    connectionsElsewhere: (userId) =>
      orElse(
        async () => {
          let total = 0;
          for (const node of await otherNodes())
            total += Number((await redis.hget(online(node), userId)) ?? 0);
          return total;
        },
        0,
        warn,
        "counting connections elsewhere",
      ),
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
