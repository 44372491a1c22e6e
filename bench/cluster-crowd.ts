// The subscriber crowd of the cluster fan-out: the same client side as the single-node fan-out
// (bench/crowd.ts): CLIENT_PROCESSES processes of bench/fanout-client.ts, each connecting from its
// own loopback address. The difference: the processes are split evenly over the nodes (with two
// nodes, processes 1-2 connect to node 1 and 3-4 to node 2), and what arrived is reported per node.
import { CLIENT_PROCESSES, type CrowdReport, MAX_PER_PROCESS, mergeReports } from "./crowd.ts";
import type { Command, Target } from "./fanout-client.ts";
import { Child, sleep } from "./procs.ts";
import { progress } from "./stack.ts";

const CONNECT_TIMEOUT_MS = 300_000;
const STEP_TIMEOUT_MS = 30_000;
const EXIT_GRACE_MS = 2_000;

export class ClusterCrowd {
  readonly #children: Child[];
  /** The node index of each child. */
  readonly #nodeOf: number[];
  readonly #nodes: number;
  /** Sockets per node. */
  readonly perNode: number[];

  private constructor(children: Child[], nodeOf: number[], nodes: number, perNode: number[]) {
    this.#children = children;
    this.#nodeOf = nodeOf;
    this.#nodes = nodes;
    this.perNode = perNode;
  }

  /**
   * Opens `n` sockets split evenly over `targets` (one per node; Parley: each authenticated and
   * subscribed to `channel`), CLIENT_PROCESSES / targets.length processes per node.
   */
  static async open(
    targets: readonly Target[],
    channel: string,
    n: number,
    label: string,
  ): Promise<ClusterCrowd> {
    if (CLIENT_PROCESSES % targets.length !== 0)
      throw new Error(`${CLIENT_PROCESSES} client processes do not split over ${targets.length} nodes`);
    if (n > CLIENT_PROCESSES * MAX_PER_PROCESS)
      throw new Error(`${n} sockets are more than ${CLIENT_PROCESSES} processes may hold`);
    const started = performance.now();
    const perProcessOfNode = CLIENT_PROCESSES / targets.length;
    const nodeOf = Array.from({ length: CLIENT_PROCESSES }, (_, i) => Math.floor(i / perProcessOfNode));
    const children = nodeOf.map(
      (node, i) => new Child("fanout-client.ts", `${label} clients #${i + 1} (node ${node + 1})`),
    );
    const share = Math.ceil(n / CLIENT_PROCESSES);
    const counts = children.map((_, i) => Math.max(0, Math.min(share, n - i * share)));
    const perNode = targets.map((_, node) =>
      counts.reduce((sum, count, i) => sum + (nodeOf[i] === node ? count : 0), 0),
    );
    const crowd = new ClusterCrowd(children, nodeOf, targets.length, perNode);
    await Promise.all(children.map((child) => child.next(STEP_TIMEOUT_MS, "the client process to start")));
    await Promise.all(
      children.map((child, i) => {
        const target = targets[nodeOf[i] as number] as Target;
        const command: Command = {
          cmd: "connect",
          target,
          channel,
          first: i * share,
          count: counts[i] as number,
          localAddress: `127.0.0.${11 + i}`,
        };
        return child.call(command, CONNECT_TIMEOUT_MS, `${command.count} sockets to connect`);
      }),
    );
    progress(
      `${label}: ${n} sockets (${perNode.join(" + ")}) connected in ` +
        `${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
    return crowd;
  }

  get pids(): number[] {
    return this.#children.map((child) => child.pid);
  }

  async arm(messages: number): Promise<void> {
    await this.#all({ cmd: "arm", messages });
  }

  async received(): Promise<number> {
    const replies = await this.#all({ cmd: "progress" });
    return replies.reduce((sum, r) => sum + (r.received as number), 0);
  }

  /** As Crowd.settle: until `expected` arrived, nothing arrived for `idleMs`, or `maxMs` passed. */
  async settle(expected: number, idleMs: number, maxMs: number): Promise<number> {
    const deadline = performance.now() + maxMs;
    let last = await this.received();
    let lastChange = performance.now();
    while (last < expected && performance.now() < deadline && performance.now() - lastChange < idleMs) {
      await sleep(250);
      const now = await this.received();
      if (now !== last) lastChange = performance.now();
      last = now;
    }
    return last;
  }

  /** What arrived, per node (index = node). */
  async reportByNode(): Promise<CrowdReport[]> {
    const replies = await this.#all({ cmd: "report" });
    return Array.from({ length: this.#nodes }, (_, node) => {
      const mine = replies.filter((_, i) => this.#nodeOf[i] === node);
      return mergeReports(mine);
    });
  }

  async close(): Promise<void> {
    try {
      await this.#all({ cmd: "close" });
    } finally {
      await Promise.all(this.#children.map((child) => child.kill(EXIT_GRACE_MS)));
    }
  }

  #all(command: Command): Promise<Record<string, unknown>[]> {
    return Promise.all(this.#children.map((child) => child.call(command, STEP_TIMEOUT_MS, command.cmd)));
  }
}
