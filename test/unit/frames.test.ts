import { describe, expect, it } from "vitest";
import { decodeFrame, encodeFrame, errorFrame, successFrame } from "../../src/protocol/frames.ts";

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
