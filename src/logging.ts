// Logging through matrix-appservice-bridge's Logger, with the bot-sdk's own logs routed into it
// (and kept at warn: at info it logs every transaction and HTTP request). With `log.format: json`
// every line (Parley's and the bot-sdk's) is instead one JSON object on stdout:
// {"ts":"<ISO 8601>","level":"info","module":"Gateway","message":"...","error":"..."}.
import { inspect } from "node:util";
import { LogLevel, LogService } from "@vector-im/matrix-bot-sdk";
import { Logger as BridgeLogger } from "matrix-appservice-bridge";

export interface Logger {
  debug(message: string, ...data: unknown[]): void;
  info(message: string, ...data: unknown[]): void;
  warn(message: string, ...data: unknown[]): void;
  error(message: string, ...data: unknown[]): void;
}

export type LogLevelName = "debug" | "info" | "warn" | "error";
export type LogFormat = "text" | "json";

const RANK: Record<LogLevelName, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** Where JSON lines go; stdout unless a test passes its own. */
export interface LineSink {
  write(line: string): unknown;
}

let json: { readonly threshold: number; readonly out: LineSink } | undefined;

/** A failure as one string: its stack (which starts with its message) or its message. */
const describeError = (error: Error): string => error.stack ?? `${error.name}: ${error.message}`;
const asText = (part: unknown): string => (typeof part === "string" ? part : inspect(part, { depth: 4 }));

/** One JSON line: the first Error among `data` is `error`; anything else joins the message. */
export function jsonLine(level: LogLevelName, module: string, message: unknown, data: unknown[]): string {
  const error = data.find((part) => part instanceof Error) as Error | undefined;
  const rest = data.filter((part) => part !== error);
  const text = [message instanceof Error ? describeError(message) : asText(message), ...rest.map(asText)];
  return `${JSON.stringify({
    ts: new Date().toISOString(),
    level,
    module,
    message: text.join(" "),
    ...(error ? { error: describeError(error) } : {}),
  })}\n`;
}

function writeJson(level: LogLevelName, module: string, message: unknown, data: unknown[]): void {
  if (!json || RANK[level] < json.threshold) return;
  json.out.write(jsonLine(level, module, message, data));
}

/** The bot-sdk's log calls, (module, ...parts), as JSON lines. */
const botSdkJsonLogger = {
  trace: (module: string, ...parts: unknown[]) => writeJson("debug", module, parts[0], parts.slice(1)),
  debug: (module: string, ...parts: unknown[]) => writeJson("debug", module, parts[0], parts.slice(1)),
  info: (module: string, ...parts: unknown[]) => writeJson("info", module, parts[0], parts.slice(1)),
  warn: (module: string, ...parts: unknown[]) => writeJson("warn", module, parts[0], parts.slice(1)),
  error: (module: string, ...parts: unknown[]) => writeJson("error", module, parts[0], parts.slice(1)),
};

type BotSdkLogger = typeof botSdkJsonLogger;

/**
 * The bot-sdk logs every non-2xx answer as an error (MatrixHttpClient), and a puppet registered
 * meanwhile as one too; the caller gets each as an error and decides (Parley logs what matters in
 * its own terms, and expected answers, like no account data yet, are not failures): debug here.
 */
function withExpectedAnswersQuiet(logger: BotSdkLogger): BotSdkLogger {
  return {
    ...logger,
    error(module, ...parts) {
      const handledByCaller =
        module === "MatrixHttpClient" || (module === "Appservice" && String(parts[0]).includes("is in use"));
      (handledByCaller ? logger.debug : logger.error)(module, ...parts);
    },
  };
}

export function configureLogging(
  level: LogLevelName,
  format: LogFormat = "text",
  out: LineSink = process.stdout,
): void {
  if (format === "json") {
    json = { threshold: RANK[level], out };
    BridgeLogger.configure({ console: "off" });
    LogService.setLogger(withExpectedAnswersQuiet(botSdkJsonLogger));
  } else {
    json = undefined;
    BridgeLogger.configure({ console: level, colorize: false });
    LogService.setLogger(withExpectedAnswersQuiet(BridgeLogger.botSdkLogger as BotSdkLogger));
  }
  LogService.setLevel(level === "error" ? LogLevel.ERROR : LogLevel.WARN);
  // express-level noise we do not want in operators' logs
  LogService.muteModule("Metrics");
}

/** A module's logger; the format is looked up on each line, so one made early follows the config. */
export const createLogger = (module: string): Logger => {
  const text = new BridgeLogger(module);
  return {
    debug: (message, ...data) =>
      json ? writeJson("debug", module, message, data) : text.debug(message, ...data),
    info: (message, ...data) =>
      json ? writeJson("info", module, message, data) : text.info(message, ...data),
    warn: (message, ...data) =>
      json ? writeJson("warn", module, message, data) : text.warn(message, ...data),
    error: (message, ...data) =>
      json ? writeJson("error", module, message, data) : text.error(message, ...data),
  };
};
