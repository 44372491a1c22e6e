// Reading and writing wire frames. Pure: no I/O, no knowledge of actions beyond the frame shapes.
// Decoding is bounded: besides the gateway's size limit, a frame may nest at most MAX_FRAME_DEPTH
// levels, hold only JSON-like values, and every string in it must be well-formed UTF-16 (a lone
// surrogate would be refused by the homeserver much later, as a 500).
import { decode as decodeMsgpack, encode as encodeMsgpack } from "@msgpack/msgpack";
import { z } from "zod";

export const refSchema = z.union([z.number().int().safe(), z.string().min(1).max(64)]);
export type Ref = z.infer<typeof refSchema>;

export type Payload = Record<string, unknown>;

/** Deeper than any payload of the protocol needs (a file in a message is 5 levels). */
export const MAX_FRAME_DEPTH = 16;
/** `ping`'s `ts` is echoed only when it is a number or a string this short. */
export const MAX_PING_TS_LENGTH = 64;

export type IncomingFrame =
  | { readonly kind: "request"; readonly action: string; readonly ref: Ref; readonly payload: Payload }
  | { readonly kind: "authenticate"; readonly payload: Payload }
  | { readonly kind: "ping"; readonly ts: number | string | null }
  | { readonly kind: "bad"; readonly ref: Ref | undefined; readonly reason: string }
  /** Readable, but some strings or keys in the payload are not acceptable: `protocol.invalid_payload`. */
  | {
      readonly kind: "invalid";
      readonly action: string;
      readonly ref: Ref | undefined;
      readonly fields: readonly string[];
    };

const isPlainObject = (value: unknown): value is Payload =>
  typeof value === "object" &&
  value !== null &&
  !Array.isArray(value) &&
  (Object.getPrototypeOf(value) === Object.prototype || Object.getPrototypeOf(value) === null);

const bad = (reason: string, ref?: Ref): IncomingFrame => ({ kind: "bad", ref, reason });

type Shape =
  | { readonly ok: true; readonly badFields: string[] }
  | { readonly ok: false; readonly reason: string };

/**
 * Walks a decoded value without recursion: refuses deep nesting and values JSON cannot hold
 * (MessagePack binary and extension types), and collects the paths of ill-formed strings and of
 * `__proto__` keys (which would rewrite an object's prototype wherever it is copied by assignment).
 */
function checkShape(root: unknown): Shape {
  const badFields: string[] = [];
  const stack: Array<{ value: unknown; depth: number; path: string }> = [{ value: root, depth: 0, path: "" }];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const { value, depth, path } = item;
    if (typeof value === "string") {
      if (!value.isWellFormed()) badFields.push(path);
      continue;
    }
    if (value === null || typeof value === "number" || typeof value === "boolean") continue;
    if (depth >= MAX_FRAME_DEPTH)
      return { ok: false, reason: `nested deeper than ${MAX_FRAME_DEPTH} levels` };
    const join = (key: string | number) => (path === "" ? String(key) : `${path}.${key}`);
    if (Array.isArray(value)) {
      value.forEach((element, index) => {
        stack.push({ value: element, depth: depth + 1, path: join(index) });
      });
    } else if (isPlainObject(value)) {
      for (const [key, element] of Object.entries(value)) {
        if (key === "__proto__" || !key.isWellFormed()) badFields.push(join(key.isWellFormed() ? key : "?"));
        else stack.push({ value: element, depth: depth + 1, path: join(key) });
      }
    } else {
      return { ok: false, reason: "only JSON values are allowed (no binary or extension types)" };
    }
  }
  return { ok: true, badFields };
}

/** Decodes one text message (JSON). Never throws: unreadable input becomes a `bad` frame. */
export function decodeFrame(text: string): IncomingFrame {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return bad("not JSON");
  }
  return decodeValue(parsed);
}

/** Decodes one binary message (MessagePack), the same frames as JSON. Never throws. */
export function decodeBinaryFrame(data: Uint8Array): IncomingFrame {
  let parsed: unknown;
  try {
    parsed = decodeMsgpack(data);
  } catch {
    return bad("not MessagePack");
  }
  return decodeValue(parsed);
}

const pingTs = (value: unknown): number | string | null =>
  (typeof value === "number" && Number.isFinite(value)) ||
  (typeof value === "string" && value.length <= MAX_PING_TS_LENGTH && value.isWellFormed())
    ? (value as number | string)
    : null;

function decodeValue(parsed: unknown): IncomingFrame {
  if (!Array.isArray(parsed) || parsed.length === 0) return bad("a frame is a non-empty array");
  const [action, second, third] = parsed;
  if (typeof action !== "string" || action.length === 0 || action.length > 64) {
    return bad("the first element must be the action name");
  }
  // Only a number or a short string comes back: echoing anything else costs more than it says.
  if (action === "ping")
    return parsed.length === 2 ? { kind: "ping", ts: pingTs(second) } : bad('ping is ["ping", ts]');
  const shape = checkShape(parsed);
  const ref = refSchema.safeParse(second);
  if (!shape.ok) return bad(shape.reason, action === "authenticate" || !ref.success ? undefined : ref.data);
  if (action === "authenticate") {
    // Tolerate a ref in the middle: ["authenticate", ref, {...}] reads the same.
    const payload = parsed.length === 3 ? third : second;
    if (parsed.length > 3 || !isPlainObject(payload)) return bad('authenticate is ["authenticate", {...}]');
    if (shape.badFields.length > 0)
      return invalid(action, undefined, shape.badFields, parsed.length === 3 ? 2 : 1);
    return { kind: "authenticate", payload };
  }
  if (!ref.success) return bad("the second element must be a ref: an integer or a string of 1-64 characters");
  if (parsed.length !== 3) return bad("a request is [action, ref, payload]", ref.data);
  if (!isPlainObject(third)) return bad("the payload must be a JSON object", ref.data);
  if (shape.badFields.length > 0) return invalid(action, ref.data, shape.badFields, 2);
  return { kind: "request", action, ref: ref.data, payload: third };
}

/** Fields are named from the payload, as validation names them (`content.body`). */
function invalid(
  action: string,
  ref: Ref | undefined,
  paths: readonly string[],
  payloadIndex: number,
): IncomingFrame {
  const prefix = `${payloadIndex}.`;
  const fields = paths.map((path) => (path.startsWith(prefix) ? path.slice(prefix.length) : "(frame)"));
  return { kind: "invalid", action, ref, fields: [...new Set(fields)] };
}

export type OutgoingFrame = readonly unknown[];

/**
 * One outgoing frame, encoded at most once per wire format however many connections receive it:
 * JSON for text connections, MessagePack for those that spoke MessagePack.
 */
export class EncodedFrame {
  readonly #frame: OutgoingFrame;
  #textBytes: Buffer | undefined;
  #binary: Uint8Array | undefined;

  constructor(frame: OutgoingFrame) {
    this.#frame = frame;
  }

  /** The frame's first element: a push's action, or `success`, `error`, `pong`. */
  get action(): string {
    return String(this.#frame[0]);
  }

  get text(): string {
    return this.textBytes.toString("utf8");
  }

  /**
   * The JSON text as UTF-8 bytes, made once: every recipient's socket writes the same buffer (a
   * string would be encoded again for each of them).
   */
  get textBytes(): Buffer {
    this.#textBytes ??= Buffer.from(JSON.stringify(this.#frame), "utf8");
    return this.#textBytes;
  }

  get binary(): Uint8Array {
    // JSON drops undefined members; so must MessagePack, or the two would differ.
    this.#binary ??= encodeMsgpack(this.#frame, { ignoreUndefined: true });
    return this.#binary;
  }
}

export const successFrame = (ref: Ref, result: unknown): OutgoingFrame => ["success", ref, result ?? {}];

export const errorFrame = (ref: Ref | undefined, error: Payload): OutgoingFrame =>
  ref === undefined ? ["error", error] : ["error", ref, error];

export const pushFrame = (action: string, payload: unknown): OutgoingFrame => [action, payload];
