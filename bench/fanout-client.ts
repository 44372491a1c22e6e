// One process of a subscriber crowd (bench/crowd.ts): holds up to a few thousand sockets to one
// server (Parley, raw ws or Socket.IO), and for every message published to them records the latency
// (send time in the body -> arrival here; the same wall clock across processes on one machine) and
// which socket saw which sequence number. Driven over IPC, one command at a time.
//
// On 2 cores the subscribers cost more CPU than the server they measure, so every server gets the
// same lean client (bench/lean-socket.ts) that finds the body in the frame's bytes instead of
// parsing the JSON. For Socket.IO it speaks the Engine.IO v4 / Socket.IO v5 framing itself (open,
// connect, a `join` with an ack, pongs), which is all a subscriber needs; socket.io-client would
// add its own parsing per message to Socket.IO's numbers.
import { signToken } from "../src/auth/jwt.ts";
import { LeanSocket } from "./lean-socket.ts";

export type Target =
  | { readonly kind: "parley"; readonly url: string; readonly jwtSecret: string; readonly users: string }
  | { readonly kind: "ws"; readonly url: string }
  | { readonly kind: "socketio"; readonly url: string };

export type Command =
  | {
      readonly cmd: "connect";
      readonly target: Target;
      readonly channel: string;
      /** The first socket's index (Parley user `<users><index>`), and how many to open. */
      readonly first: number;
      readonly count: number;
      /** A loopback source address of this process's own, so the crowds never run out of ports. */
      readonly localAddress: string;
    }
  | { readonly cmd: "arm"; readonly messages: number }
  | { readonly cmd: "progress" }
  | { readonly cmd: "report" }
  | { readonly cmd: "close" };

/** The body every fan-out message carries: its sequence number and when it was sent. */
export const fanoutBody = (seq: number, sentAt: number) => `fanout ${seq} ${sentAt}`;

const MARKER = Buffer.from('"body":"fanout ');
const now = () => performance.timeOrigin + performance.now();
const HANDSHAKE_TIMEOUT_MS = 30_000;
/** Handshakes in flight at once per process: enough to keep the server busy, not a SYN flood. */
const IN_FLIGHT = 50;
const CLOSE_WAIT_MS = 5_000;

interface Peer {
  seen: Uint8Array | undefined;
  socket: LeanSocket | undefined;
}

const peers: Peer[] = [];
let latencies: number[] = [];
let received = 0;
let duplicates = 0;
/** Frames that were neither a fan-out message nor protocol chatter (should be none). */
let foreign = 0;
let dropped = 0;
const dropReasons = new Map<string, number>();
let closing = false;
/** Sockets not closed yet, to let a close finish its handshakes before the process ends. */
let open = 0;

/**
 * Reads `fanout <seq> <sentAt>` out of the frame's bytes; false when the frame has no such body.
 * Warm-up messages (negative seq) are passed over.
 */
function onFrame(peer: Peer, data: Buffer): boolean {
  const at = data.indexOf(MARKER);
  if (at < 0) return false;
  const start = at + MARKER.length;
  const [seqText, sentText] = data.toString("latin1", start, data.indexOf(34, start)).split(" ");
  const seq = Number(seqText);
  if (seq < 0) return true;
  if (!peer.seen || !(seq < peer.seen.length)) return false;
  if (peer.seen[seq]) {
    duplicates += 1;
    return true;
  }
  peer.seen[seq] = 1;
  received += 1;
  latencies.push(now() - Number(sentText));
  return true;
}

/** Runs one handshake step: sends `out` (if any), resolves with the next text frame. */
type Step = (out: string | undefined) => Promise<string>;

/** The protocol steps after the WebSocket opened, and what to answer to chatter afterwards. */
const dialects = {
  async parley(step: Step, target: Target, channel: string, index: number) {
    if (target.kind !== "parley") throw new Error("not a Parley target");
    const token = await signToken(target.jwtSecret, {
      sub: `${target.users}${index}`,
      name: `Bench ${index}`,
    });
    const auth = await step(JSON.stringify(["authenticate", { token }]));
    if (!auth.startsWith('["authenticated"')) throw new Error(`authenticate: ${auth.slice(0, 200)}`);
    const sub = await step(JSON.stringify(["chat.subscribe", 1, { channel }]));
    if (!sub.startsWith('["success"')) throw new Error(`chat.subscribe: ${sub.slice(0, 200)}`);
  },
  async ws() {},
  async socketio(step: Step, _target: Target, channel: string) {
    const opened = await step(undefined); // Engine.IO "open": 0{"sid":...}
    if (!opened.startsWith("0")) throw new Error(`expected an Engine.IO open packet, got ${opened}`);
    const connected = await step("40"); // Socket.IO CONNECT to the main namespace
    if (!connected.startsWith("40")) throw new Error(`expected a Socket.IO CONNECT, got ${connected}`);
    const ack = await step(`420${JSON.stringify(["join", channel])}`); // EVENT with ack id 0
    if (!ack.startsWith("430")) throw new Error(`expected the ack of join, got ${ack}`);
  },
};

function urlOf(target: Target): string {
  return target.kind === "socketio" ? `${target.url}/socket.io/?EIO=4&transport=websocket` : target.url;
}

async function connect(target: Target, channel: string, index: number, localAddress: string): Promise<Peer> {
  const peer: Peer = { seen: undefined, socket: undefined };
  // Handshake frames are queued for `step` (Socket.IO speaks first, maybe before anyone waits).
  let handshaking = true;
  const inbox: string[] = [];
  let waiter: ((text: string) => void) | undefined;
  let early: Error | undefined;
  const onText = (data: Buffer) => {
    if (handshaking) {
      const text = data.toString("utf8");
      if (waiter) waiter(text);
      else inbox.push(text);
    } else if (onFrame(peer, data)) {
      // a fan-out message, counted
    } else if (target.kind === "socketio" && data.length === 1 && data[0] === 0x32) {
      peer.socket?.sendText("3"); // Engine.IO ping -> pong, or the server drops us after pingTimeout
    } else if (!(target.kind === "parley" && data.toString("latin1", 0, 10) === '["success"')) {
      foreign += 1;
    }
  };
  const onClose = (code: number) => {
    if (handshaking) {
      early = new Error(`closed with ${code} during the handshake`);
      waiter?.("");
      return;
    }
    open -= 1;
    if (closing) return;
    dropped += 1;
    dropReasons.set(`close ${code}`, (dropReasons.get(`close ${code}`) ?? 0) + 1);
  };
  const socket = await LeanSocket.open(urlOf(target), localAddress, { onText, onClose });
  peer.socket = socket;
  const step: Step = (out) => {
    if (out !== undefined) socket.sendText(out);
    const queued = inbox.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return new Promise<string>((resolve, reject) => {
      waiter = (text) => {
        waiter = undefined;
        if (early) reject(early);
        else resolve(text);
      };
    });
  };
  try {
    await dialects[target.kind](step, target, channel, index);
  } catch (error) {
    socket.close();
    throw error;
  }
  handshaking = false;
  open += 1;
  return peer;
}

async function connectAll(command: Extract<Command, { cmd: "connect" }>): Promise<void> {
  const { target, channel, first, count, localAddress } = command;
  let next = first;
  const worker = async () => {
    while (next < first + count) {
      const index = next++;
      let timer: NodeJS.Timeout | undefined;
      const limit = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error("handshake timed out")), HANDSHAKE_TIMEOUT_MS);
      });
      try {
        peers.push(await Promise.race([connect(target, channel, index, localAddress), limit]));
      } catch (error) {
        throw new Error(`socket ${index} to ${target.url}: ${(error as Error).message}`);
      } finally {
        clearTimeout(timer);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, count) }, worker));
}

async function handle(command: Command): Promise<Record<string, unknown>> {
  switch (command.cmd) {
    case "connect":
      await connectAll(command);
      return { connected: peers.length };
    case "arm":
      for (const peer of peers) peer.seen = new Uint8Array(command.messages);
      latencies = [];
      received = 0;
      duplicates = 0;
      foreign = 0;
      return {};
    case "progress":
      return { received };
    case "report":
      return {
        latencies: Float64Array.from(latencies),
        received,
        duplicates,
        foreign,
        dropped,
        dropReasons: Object.fromEntries(dropReasons),
      };
    case "close":
      closing = true;
      for (const peer of peers) peer.socket?.close();
      for (const deadline = performance.now() + CLOSE_WAIT_MS; open > 0 && performance.now() < deadline; )
        await new Promise((resolve) => setTimeout(resolve, 50));
      return { open };
  }
}

process.on("message", (command: Command) => {
  handle(command).then(
    // After "close" the process has nothing left to do: it ends once the reply is out.
    (result) => process.send?.({ ok: true, ...result }, () => closing && process.exit(0)),
    (error: unknown) => process.send?.({ ok: false, error: (error as Error).message }),
  );
});
process.on("disconnect", () => process.exit(0));
process.send?.({ ok: true, ready: true });
