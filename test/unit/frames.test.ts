import { describe, expect, it } from "vitest";
import {
  decodeFrame,
  EncodedFrame,
  errorFrame,
  type OutgoingFrame,
  successFrame,
} from "../../src/protocol/frames.ts";

const encodeFrame = (frame: OutgoingFrame) => new EncodedFrame(frame).text;

describe("decodeFrame", () => {
  it("reads a request", () => {
    expect(decodeFrame('["chat.join", 1234, {"channel": "room_0"}]')).toEqual({
      kind: "request",
      action: "chat.join",
      ref: 1234,
      payload: { channel: "room_0" },
    });
    expect(decodeFrame('["chat.join", "abc", {}]')).toMatchObject({ kind: "request", ref: "abc" });
  });

  it("reads authenticate with or without a ref, and ping", () => {
    expect(decodeFrame('["authenticate", {"token": "t"}]')).toEqual({
      kind: "authenticate",
      payload: { token: "t" },
    });
    expect(decodeFrame('["authenticate", 1, {"token": "t"}]')).toEqual({
      kind: "authenticate",
      payload: { token: "t" },
    });
    expect(decodeFrame('["ping", 17]')).toEqual({ kind: "ping", ts: 17 });
  });

  it.each([
    ["{", undefined],
    ["5", undefined],
    ["[]", undefined],
    ["[1, 2, {}]", undefined],
    ['["chat.join"]', undefined],
    ['["chat.join", 1.5, {}]', undefined],
    ['["chat.join", "", {}]', undefined],
    [`["chat.join", "${"x".repeat(65)}", {}]`, undefined],
    ['["chat.join", 3, []]', 3],
    ['["chat.join", 3, null]', 3],
    ['["chat.join", 3]', 3],
    ['["chat.join", 3, {}, 4]', 3],
    ['["ping"]', undefined],
    ['["authenticate", "token"]', undefined],
  ])("%s is a bad frame (ref %s)", (text, ref) => {
    const frame = decodeFrame(text);
    expect(frame.kind).toBe("bad");
    if (frame.kind === "bad") expect(frame.ref).toBe(ref);
  });
});

describe("encoding", () => {
  it("writes success, error with and without a ref", () => {
    expect(encodeFrame(successFrame(1, { a: 1 }))).toBe('["success",1,{"a":1}]');
    expect(encodeFrame(successFrame("r", undefined))).toBe('["success","r",{}]');
    expect(encodeFrame(errorFrame(2, { code: "x" }))).toBe('["error",2,{"code":"x"}]');
    expect(encodeFrame(errorFrame(undefined, { code: "x" }))).toBe('["error",{"code":"x"}]');
  });
});

describe("MessagePack", () => {
  it("reads the same frames from binary messages", async () => {
    const { encode } = await import("@msgpack/msgpack");
    const { decodeBinaryFrame } = await import("../../src/protocol/frames.ts");
    expect(decodeBinaryFrame(encode(["chat.join", 7, { channel: "room_0" }]))).toEqual({
      kind: "request",
      action: "chat.join",
      ref: 7,
      payload: { channel: "room_0" },
    });
    expect(decodeBinaryFrame(new Uint8Array([0x93, 0xa9]))).toMatchObject({ kind: "bad" });
    expect(decodeBinaryFrame(encode({ not: "an array" }))).toMatchObject({ kind: "bad" });
  });

  it("encodes a frame once per format, dropping undefined members in both", async () => {
    const { decode } = await import("@msgpack/msgpack");
    const { EncodedFrame } = await import("../../src/protocol/frames.ts");
    const frame = new EncodedFrame(["chat.event", { a: 1, gone: undefined }]);
    expect(frame.text).toBe('["chat.event",{"a":1}]');
    expect(decode(frame.binary)).toEqual(["chat.event", { a: 1 }]);
    expect(frame.binary).toBe(frame.binary);
  });
});

describe("bounded decoding", () => {
  it("refuses nesting deeper than the limit, in JSON and MessagePack, without throwing", async () => {
    const { decodeBinaryFrame, MAX_FRAME_DEPTH } = await import("../../src/protocol/frames.ts");
    const nested = (depth: number) => `${"[".repeat(depth)}1${"]".repeat(depth)}`;
    expect(decodeFrame(`["chat.join", 1, {"a": ${nested(MAX_FRAME_DEPTH - 3)}}]`).kind).toBe("request");
    expect(decodeFrame(`["chat.join", 1, {"a": ${nested(MAX_FRAME_DEPTH)}}]`)).toMatchObject({
      kind: "bad",
      ref: 1,
    });
    expect(decodeFrame(nested(30_000)).kind).toBe("bad");
    const deepMsgpack = Buffer.concat([
      Buffer.from([0x93, 0xa9]),
      Buffer.from("chat.join"),
      Buffer.from([0x01]),
      Buffer.alloc(60_000, 0x91),
      Buffer.from([0xc0]),
    ]);
    expect(decodeBinaryFrame(deepMsgpack).kind).toBe("bad");
  });

  it("answers ping with its ts only when it is a number or a short string", () => {
    expect(decodeFrame('["ping", 12.5]')).toEqual({ kind: "ping", ts: 12.5 });
    expect(decodeFrame('["ping", "abc"]')).toEqual({ kind: "ping", ts: "abc" });
    expect(decodeFrame(`["ping", "${"x".repeat(65)}"]`)).toEqual({ kind: "ping", ts: null });
    expect(decodeFrame(`["ping", ${"[".repeat(5000)}${"]".repeat(5000)}]`)).toEqual({
      kind: "ping",
      ts: null,
    });
    expect(decodeFrame('["ping", {"a": 1}]')).toEqual({ kind: "ping", ts: null });
    expect(decodeFrame('["ping", "\\ud800"]')).toEqual({ kind: "ping", ts: null });
  });

  it("names lone surrogates and __proto__ keys as invalid fields", () => {
    expect(decodeFrame('["chat.send", 3, {"content": {"body": "a\\ud800"}}]')).toEqual({
      kind: "invalid",
      action: "chat.send",
      ref: 3,
      fields: ["content.body"],
    });
    expect(decodeFrame('["user.update", 4, {"profile": {"__proto__": {"x": 1}}}]')).toMatchObject({
      kind: "invalid",
      fields: ["profile.__proto__"],
    });
    expect(decodeFrame('["authenticate", {"token": "\\udfff"}]')).toMatchObject({
      kind: "invalid",
      ref: undefined,
    });
    // Keys like constructor are plain data.
    expect(decodeFrame('["chat.react", 5, {"reaction": "constructor", "toString": 1}]').kind).toBe("request");
  });

  it("refuses MessagePack values JSON cannot hold", async () => {
    const { encode } = await import("@msgpack/msgpack");
    const { decodeBinaryFrame } = await import("../../src/protocol/frames.ts");
    expect(decodeBinaryFrame(encode(["chat.send", 1, { when: new Date(0) }])).kind).toBe("bad");
    expect(decodeBinaryFrame(encode(["chat.send", 1, { blob: new Uint8Array([1]) }])).kind).toBe("bad");
  });
});
