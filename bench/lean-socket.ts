// The least a WebSocket client can be (RFC 6455), for the subscriber crowds: on 2 cores, thousands
// of `ws` clients cost more CPU than the server they measure, most of it in Node's stream machinery
// per read. This one reads with net's `onread` into one buffer shared by every socket of the process
// (reads are handled one at a time, and nothing keeps a view of it), parses the server's unmasked
// frames in place, answers pings, and hands each text message to `onText` as a view that is only
// valid during the call. Small messages only: no fragmentation, no extensions.
import { randomBytes } from "node:crypto";
import { connect, type Socket } from "node:net";

const SHARED_READ_BUFFER = Buffer.allocUnsafe(256 * 1024);
const OP_TEXT = 0x1;
const OP_CLOSE = 0x8;
const OP_PING = 0x9;
const OP_PONG = 0xa;

export interface LeanHandlers {
  /** A text message; `data` is valid only during the call. */
  onText(data: Buffer): void;
  /** The connection ended (after open), with the close code if the server sent one (else 1006). */
  onClose(code: number): void;
}

/** A masked client frame. */
function frame(opcode: number, payload: Buffer): Buffer {
  const length = payload.length;
  const header = length < 126 ? 2 : 4;
  const out = Buffer.allocUnsafe(header + 4 + length);
  out[0] = 0x80 | opcode;
  if (length < 126) out[1] = 0x80 | length;
  else {
    out[1] = 0x80 | 126;
    out.writeUInt16BE(length, 2);
  }
  const mask = randomBytes(4);
  mask.copy(out, header);
  for (let i = 0; i < length; i++) out[header + 4 + i] = (payload[i] as number) ^ (mask[i & 3] as number);
  return out;
}

export class LeanSocket {
  readonly #socket: Socket;
  readonly #handlers: LeanHandlers;
  readonly #upgraded: () => void;
  readonly #fail: (error: Error) => void;
  /** Bytes of an incomplete frame (or of the HTTP response) left over from the previous read. */
  #pending: Buffer | undefined;
  #open = false;
  #closeCode = 1006;
  #ended = false;

  /** Connects and upgrades; resolves once the server answered 101. */
  static open(url: string, localAddress: string, handlers: LeanHandlers): Promise<LeanSocket> {
    return new Promise((resolve, reject) => {
      const lean: LeanSocket = new LeanSocket(url, localAddress, handlers, () => resolve(lean), reject);
    });
  }

  private constructor(
    url: string,
    localAddress: string,
    handlers: LeanHandlers,
    upgraded: () => void,
    fail: (error: Error) => void,
  ) {
    this.#handlers = handlers;
    this.#upgraded = upgraded;
    this.#fail = fail;
    const { hostname, port, pathname, search } = new URL(url);
    this.#socket = connect({
      host: hostname,
      port: Number(port),
      localAddress,
      noDelay: true,
      onread: {
        buffer: SHARED_READ_BUFFER,
        callback: (n) => {
          this.#read(SHARED_READ_BUFFER.subarray(0, n));
          return true; // keep reading (false would pause the socket)
        },
      },
    });
    this.#socket.once("connect", () => {
      const key = randomBytes(16).toString("base64");
      this.#socket.write(
        `GET ${pathname}${search} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\n` +
          `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
    });
    this.#socket.on("error", (error) => {
      if (!this.#open) fail(error);
    });
    this.#socket.on("close", () => {
      if (!this.#open) fail(new Error("closed before the upgrade"));
      else if (!this.#ended) {
        this.#ended = true;
        this.#handlers.onClose(this.#closeCode);
      }
    });
  }

  sendText(text: string): void {
    if (!this.#socket.destroyed) this.#socket.write(frame(OP_TEXT, Buffer.from(text)));
  }

  /** A close frame (1000); the server answers with its own and closes the TCP connection. */
  close(): void {
    if (this.#socket.destroyed) return;
    const code = Buffer.allocUnsafe(2);
    code.writeUInt16BE(1000);
    this.#socket.write(frame(OP_CLOSE, code));
    this.#socket.end();
  }

  #read(chunk: Buffer): void {
    let data = this.#pending ? Buffer.concat([this.#pending, chunk]) : chunk;
    this.#pending = undefined;
    if (!this.#open) {
      const end = data.indexOf("\r\n\r\n");
      if (end < 0) {
        this.#pending = Buffer.from(data);
        return;
      }
      const head = data.toString("latin1", 0, end);
      if (!head.startsWith("HTTP/1.1 101")) {
        this.#fail(new Error(`upgrade refused: ${head.split("\r\n")[0]}`));
        this.#socket.destroy();
        return;
      }
      this.#open = true;
      data = data.subarray(end + 4);
      this.#upgraded();
    }
    let at = 0;
    while (data.length - at >= 2) {
      const opcode = (data[at] as number) & 0x0f;
      let length = (data[at + 1] as number) & 0x7f;
      let start = at + 2;
      if (length === 126) {
        if (data.length - at < 4) break;
        length = data.readUInt16BE(at + 2);
        start = at + 4;
      } else if (length === 127) {
        if (data.length - at < 10) break;
        length = Number(data.readBigUInt64BE(at + 2));
        start = at + 10;
      }
      if (data.length < start + length) break;
      const payload = data.subarray(start, start + length);
      at = start + length;
      if (opcode === OP_TEXT) this.#handlers.onText(payload);
      else if (opcode === OP_PING) this.#socket.write(frame(OP_PONG, payload));
      else if (opcode === OP_CLOSE) {
        this.#closeCode = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
        this.#socket.end();
      }
    }
    // Whatever is left is copied: the shared buffer is overwritten by the next read of any socket.
    if (at < data.length) this.#pending = Buffer.from(data.subarray(at));
  }
}
