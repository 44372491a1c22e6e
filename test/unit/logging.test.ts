// log.format: json: one JSON object per line, {ts, level, module, message, error?}, for Parley's
// loggers and the bot-sdk's alike, at the configured level and above.
import { LogService } from "@vector-im/matrix-bot-sdk";
import { afterEach, describe, expect, it } from "vitest";
import { configureLogging, createLogger } from "../../src/logging.ts";

function capture(level: "debug" | "info" | "warn" | "error") {
  const lines: string[] = [];
  configureLogging(level, "json", { write: (line: string) => lines.push(line) });
  return () => lines.map((line) => JSON.parse(line) as Record<string, unknown>);
}

afterEach(() => configureLogging("error"));

describe("JSON logs", () => {
  it("writes one object per line with ts, level, module and message", () => {
    const read = capture("info");
    createLogger("Gateway").info("WebSocket gateway on ws://127.0.0.1:8080/chat");
    const [line, ...rest] = read();
    expect(rest).toEqual([]);
    expect(Object.keys(line ?? {}).sort()).toEqual(["level", "message", "module", "ts"]);
    expect(line).toMatchObject({
      level: "info",
      module: "Gateway",
      message: "WebSocket gateway on ws://127.0.0.1:8080/chat",
    });
    expect(new Date(String(line?.ts)).toISOString()).toBe(line?.ts);
  });

  it("puts an error's stack in `error` and other data in the message", () => {
    const read = capture("info");
    createLogger("Outbox").error("entry 7 failed", new Error("boom"), { attempt: 3 });
    const [line] = read();
    expect(line?.level).toBe("error");
    expect(line?.message).toBe("entry 7 failed { attempt: 3 }");
    expect(String(line?.error)).toMatch(/^Error: boom\n\s+at /);
  });

  it("leaves out what is below the level, and a logger made before configuring follows it", () => {
    const early = createLogger("Early");
    const read = capture("warn");
    early.info("not shown");
    early.debug("not shown");
    early.warn("shown");
    expect(read().map((l) => [l.module, l.level, l.message])).toEqual([["Early", "warn", "shown"]]);
  });

  it("writes the bot-sdk's lines the same way", () => {
    const read = capture("info");
    LogService.warn("MatrixHttpClient", "(REQ-1)", "something odd");
    expect(read()).toMatchObject([
      { level: "warn", module: "MatrixHttpClient", message: "(REQ-1) something odd" },
    ]);
  });
});
