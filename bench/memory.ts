// Idle memory per connection: N sockets connect and sit idle (Parley: authenticated and subscribed
// to one channel; raw ws: open; Socket.IO: in one room), and the server's RSS growth is divided by
// N. Every measurement uses a freshly started server whose publisher connection has already loaded
// the code a connection needs. 20,000 sockets cannot be held: a process may have at most 20,000
// open files (the hard limit here, not raisable), and a server has a few dozen of its own (its
// listener, its database, its logs, its connections to Synapse), so the largest count is 19,800.
import { SERVERS, type ServerName, startContender } from "./contenders.ts";
import { Crowd } from "./crowd.ts";
import { cpuSeconds, openFiles, rssKiB, sleep } from "./procs.ts";
import type { Stack } from "./stack.ts";

export const IDLE_COUNTS = [1_000, 5_000, 19_800] as const;
export const IDLE_LIMIT_NOTE =
  "19,800, not 20,000: a process may hold at most 20,000 open files (hard limit), sockets and the server's own files together";
/** How long the connected crowd is left idle before the server's RSS is read. */
export const IDLE_WAIT_MS = 3_000;
const QUIET_MS = 1_000;
const CHANNEL = "bench_idle";

export interface IdleRun {
  readonly server: ServerName;
  readonly connections: number;
  readonly rssBeforeKiB: number;
  readonly rssAfterKiB: number;
  readonly rssPerConnKiB: number;
  /** The server's open files (sockets included) with every connection up: the limit is 20,000. */
  readonly openFiles: number;
  /** Server CPU per connection while they connected (Parley: authenticate and subscribe too), ms. */
  readonly connectCpuMs: number;
  /** Seconds until all had connected. */
  readonly connectS: number;
  /** Connections the server closed or lost while idle (should be none), by reason. */
  readonly dropped: Record<string, number>;
}

async function idleRun(stack: Stack, name: ServerName, connections: number): Promise<IdleRun> {
  const server = await startContender(name, stack, `bench_i${connections}_`);
  const publisher = await server.publisher(CHANNEL);
  try {
    await sleep(QUIET_MS);
    const rssBeforeKiB = rssKiB(server.pid);
    const [cpuBefore, started] = [cpuSeconds(server.pid), performance.now()];
    const crowd = await Crowd.open(server.target, CHANNEL, connections, `idle ${name} ${connections}`);
    const connectCpuMs = ((cpuSeconds(server.pid) - cpuBefore) * 1000) / connections;
    const connectS = (performance.now() - started) / 1000;
    try {
      await sleep(IDLE_WAIT_MS);
      const rssAfterKiB = rssKiB(server.pid);
      const { dropReasons } = await crowd.report();
      return {
        server: name,
        connections,
        rssBeforeKiB,
        rssAfterKiB,
        rssPerConnKiB: (rssAfterKiB - rssBeforeKiB) / connections,
        openFiles: openFiles(server.pid),
        connectCpuMs,
        connectS,
        dropped: dropReasons,
      };
    } finally {
      await crowd.close();
    }
  } finally {
    publisher.close();
    await server.stop();
  }
}

export async function idleMemoryBench(stack: Stack): Promise<IdleRun[]> {
  const runs: IdleRun[] = [];
  for (const connections of IDLE_COUNTS) {
    for (const name of SERVERS) runs.push(await idleRun(stack, name, connections));
  }
  return runs;
}
