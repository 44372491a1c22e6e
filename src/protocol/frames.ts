// Reading and writing wire frames. Pure: no I/O, no knowledge of actions beyond the frame shapes.
import { decode as decodeMsgpack, encode as encodeMsgpack } from "@msgpack/msgpack";
import { z } from "zod";

export const refSchema = z.union([z.number().int().safe(), z.string().min(1).max(64)]);
export type Ref = z.infer<typeof refSchema>;

export type Payload = Record<string, unknown>;

export type IncomingFrame =
  | { readonly kind: "request"; readonly action: string; readonly ref: Ref; readonly payload: Payload }
  | { readonly kind: "authenticate"; readonly payload: Payload }
  | { readonly kind: "ping"; readonly ts: unknown }
  | { readonly kind: "bad"; readonly ref: Ref | undefined; readonly reason: string };

const isPlainObject = (value: unknown): value is Payload =>
  typeof value === "object" && value !== null && !Array.isArray(value);

const bad = (reason: string, ref?: Ref): IncomingFrame => ({ kind: "bad", ref, reason });

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

function decodeValue(parsed: unknown): IncomingFrame {
  if (!Array.isArray(parsed) || parsed.length === 0) return bad("a frame is a non-empty array");
  const [action, second, third] = parsed;
  if (typeof action !== "string" || action.length === 0 || action.length > 64) {
    return bad("the first element must be the action name");
  }
  if (action === "ping") {
    return parsed.length === 2 ? { kind: "ping", ts: second } : bad('ping is ["ping", ts]');
  }
  if (action === "authenticate") {
    // Tolerate a ref in the middle: ["authenticate", ref, {...}] reads the same.
    const payload = parsed.length === 3 ? third : second;
    if (parsed.length > 3 || !isPlainObject(payload)) return bad('authenticate is ["authenticate", {...}]');
    return { kind: "authenticate", payload };
  }
  const ref = refSchema.safeParse(second);
  if (!ref.success) return bad("the second element must be a ref: an integer or a string of 1-64 characters");
  if (parsed.length !== 3) return bad("a request is [action, ref, payload]", ref.data);
  if (!isPlainObject(third)) return bad("the payload must be a JSON object", ref.data);
  return { kind: "request", action, ref: ref.data, payload: third };
}

export type OutgoingFrame = readonly unknown[];

/**
 * One outgoing frame, encoded at most once per wire format however many connections receive it:
 * JSON for text connections, MessagePack for those that spoke MessagePack.
 */
export class EncodedFrame {
  readonly #frame: OutgoingFrame;
  #text: string | undefined;
  #binary: Uint8Array | undefined;

  constructor(frame: OutgoingFrame) {
    this.#frame = frame;
  }

  get text(): string {
    this.#text ??= JSON.stringify(this.#frame);
    return this.#text;
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
