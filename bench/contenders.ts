// The three servers the fan-out and memory parts compare, behind one shape: Parley (the bench
// stack's own process, restarted so every measurement starts from a fresh process), a bare `ws`
// server and a Socket.IO server (bench/servers/, each a fresh child process). Each gives its pid
// (for RSS), the target its subscribers connect to, and a publisher.
import { io } from "socket.io-client";
import WebSocket from "ws";
import type { Target } from "./fanout-client.ts";
import { joinRoom, type MatrixUser, newMatrixUser, roomIdOf, waitMirrored } from "./matrix-room.ts";
import { startServer } from "./procs.ts";
import { progress, type Stack, withTimeout } from "./stack.ts";

export const SERVERS = ["parley", "ws", "socketio"] as const;
export type ServerName = (typeof SERVERS)[number];
export const SERVER_LABELS: Record<ServerName, string> = {
  parley: "Parley",
  ws: "raw ws",
  socketio: "Socket.IO",
};

const CONNECT_TIMEOUT_MS = 10_000;
/** How long Parley's outbox may take to post a run's last message to Synapse. */
const MIRROR_TIMEOUT_MS = 120_000;

export interface Publisher {
  /**
   * Sends without waiting for anything: the rate is the publisher's, not the server's. A negative
   * `seq` is a warm-up message.
   */
  publish(seq: number, body: string): void;
  /** After the last publish, with `last` its body: what became of the sends (see Finished). */
  finish(last: string): Promise<Finished>;
  close(): void;
}

export interface Finished {
  /** Parley's: sends not answered with success, by error code ("no reply" when none came). */
  readonly errors: Record<string, number>;
  /** Parley's: ms until the Matrix room had the last message (null: not within the timeout). */
  readonly mirroredMs: number | null | undefined;
}

export interface Contender {
  readonly name: ServerName;
  readonly pid: number;
  readonly target: Target;
  /**
   * Connects the publisher and makes `channel` exist (Parley: the publisher joins it). Done
   * before any memory baseline, so the code a first connection loads is not counted per connection.
   */
  publisher(channel: string): Promise<Publisher>;
  stop(): Promise<void>;
}

let matrixObserver: MatrixUser | undefined;

async function parley(stack: Stack, users: string): Promise<Contender> {
  await stack.withParleyStopped(() => {});
  return {
    name: "parley",
    pid: stack.parleyPid(),
    target: { kind: "parley", url: stack.gatewayUrl, jwtSecret: stack.jwtSecret, users },
    async publisher(channel) {
      const client = await stack.login(`${users}pub`, "Bench Publisher");
      const roomId = roomIdOf(await client.ok("chat.join", { channel }));
      // A Matrix user in the room, to see when the outbox has mirrored a run (and let it finish
      // before the next one: Synapse shares the 2 cores).
      matrixObserver ??= await newMatrixUser(stack.hsUrl, "bench_mx_fanout");
      const observer = matrixObserver;
      await joinRoom(stack.hsUrl, observer, roomId);
      let sent = 0;
      return {
        publish(seq, body) {
          if (seq >= 0) sent += 1; // not the warm-up's
          client.send([
            "chat.send",
            `p${seq}`,
            { channel, event_type: "channel.message", content: { type: "text", body } },
          ]);
        },
        async finish(last) {
          let mirroredMs: number | null = null;
          try {
            mirroredMs = await waitMirrored(stack.hsUrl, observer, roomId, last, MIRROR_TIMEOUT_MS);
          } catch (error) {
            progress(`Parley's outbox: ${(error as Error).message}`);
          }
          const errors: Record<string, number> = {};
          let answered = 0;
          for (const [kind, ref, payload] of client.received) {
            if (!/^p\d+$/.test(String(ref)) || (kind !== "success" && kind !== "error")) continue;
            answered += 1;
            const code = kind === "error" ? String((payload as { code?: unknown }).code) : undefined;
            if (code !== undefined) errors[code] = (errors[code] ?? 0) + 1;
          }
          if (answered < sent) errors["no reply"] = sent - answered;
          return { errors, mirroredMs };
        },
        close: () => client.close(),
      };
    },
    async stop() {},
  };
}

async function rawWs(): Promise<Contender> {
  const { child, url } = await startServer("servers/raw-ws.ts", "the raw ws server");
  return {
    name: "ws",
    pid: child.pid,
    target: { kind: "ws", url },
    async publisher(channel) {
      const ws = new WebSocket(url, { perMessageDeflate: false });
      await withTimeout(
        new Promise<void>((resolve, reject) => {
          ws.once("open", () => resolve());
          ws.once("error", reject);
        }),
        CONNECT_TIMEOUT_MS,
        "the raw ws publisher to connect",
      );
      return {
        publish: (_seq, body) => ws.send(JSON.stringify({ channel, body })),
        finish: async () => ({ errors: {}, mirroredMs: undefined }),
        close: () => ws.close(),
      };
    },
    stop: () => child.kill(),
  };
}

async function socketIo(): Promise<Contender> {
  const { child, url } = await startServer("servers/socketio.ts", "the Socket.IO server");
  return {
    name: "socketio",
    pid: child.pid,
    target: { kind: "socketio", url },
    async publisher(channel) {
      const socket = io(url, { transports: ["websocket"], forceNew: true, reconnection: false });
      await withTimeout(
        new Promise<void>((resolve, reject) => {
          socket.once("connect", () => resolve());
          socket.once("connect_error", reject);
        }),
        CONNECT_TIMEOUT_MS,
        "the Socket.IO publisher to connect",
      );
      return {
        publish: (_seq, body) => socket.emit("publish", { channel, body }),
        finish: async () => ({ errors: {}, mirroredMs: undefined }),
        close: () => socket.disconnect(),
      };
    },
    stop: () => child.kill(),
  };
}

/** Starts `name` fresh; `users` prefixes the Parley user names of this measurement's sockets. */
export function startContender(name: ServerName, stack: Stack, users: string): Promise<Contender> {
  if (name === "parley") return parley(stack, users);
  return name === "ws" ? rawWs() : socketIo();
}
