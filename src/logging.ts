// Logging through matrix-appservice-bridge's Logger, with the bot-sdk's own logs routed into it
// (and kept at warn: at info it logs every transaction and HTTP request).
import { LogLevel, LogService } from "@vector-im/matrix-bot-sdk";
import { Logger as BridgeLogger } from "matrix-appservice-bridge";

export interface Logger {
  debug(message: string, ...data: unknown[]): void;
  info(message: string, ...data: unknown[]): void;
  warn(message: string, ...data: unknown[]): void;
  error(message: string, ...data: unknown[]): void;
}

export type LogLevelName = "debug" | "info" | "warn" | "error";

export function configureLogging(level: LogLevelName): void {
  BridgeLogger.configure({ console: level, colorize: false });
  LogService.setLogger(BridgeLogger.botSdkLogger);
  LogService.setLevel(level === "error" ? LogLevel.ERROR : LogLevel.WARN);
  // express-level noise we do not want in operators' logs
  LogService.muteModule("Metrics");
}

export const createLogger = (module: string): Logger => new BridgeLogger(module);
