// Slash commands in a text message: `/kick @user reason`, `/ban`, `/unban`, `/timeout @user 5m
// reason`, `/untimeout`, `/slow 10`, `/rules text`, `/mod`, `/unmod`, `/me text`. Pure parsing;
// anything else starting with a slash is an ordinary message.
import { ProtocolError } from "../../protocol/errors.ts";
import type { UserId } from "../../protocol/ids.ts";
import type { Naming } from "../naming.ts";

export type SlashCommand =
  | { readonly name: "kick" | "ban"; readonly user: UserId; readonly reason?: string }
  | { readonly name: "unban" | "untimeout" | "mod" | "unmod"; readonly user: UserId }
  | { readonly name: "timeout"; readonly user: UserId; readonly seconds: number; readonly reason?: string }
  | { readonly name: "slow"; readonly seconds: number }
  | { readonly name: "rules"; readonly text: string }
  | { readonly name: "me"; readonly text: string };

const bad = (message: string) =>
  new ProtocolError("protocol.invalid_payload", message, { fields: ["content.body"] });

/** `90`, `90s`, `5m`, `2m30s`. */
export function parseDuration(text: string): number | undefined {
  if (/^\d+$/.test(text)) return Number(text);
  const match = /^(?:(\d+)m)?(?:(\d+)s)?$/.exec(text);
  if (!match || (!match[1] && !match[2])) return undefined;
  return Number(match[1] ?? 0) * 60 + Number(match[2] ?? 0);
}

export function parseSlash(body: string, naming: Naming): SlashCommand | undefined {
  const match = /^\/([a-z]+)(?:\s+([\s\S]*))?$/.exec(body.trim());
  if (!match) return undefined;
  const [, name, rest = ""] = match;
  const words = rest.trim().split(/\s+/).filter(Boolean);
  const user = (): UserId => {
    const ref = words.shift();
    if (!ref?.startsWith("@")) throw bad(`/${name} needs a user: @name or @name:server`);
    // `@alice` is the native user alice; a full id names anyone.
    return ref.includes(":") ? (ref as UserId) : naming.nativeUserId(ref.slice(1).toLowerCase());
  };
  const reason = () => (words.length > 0 ? { reason: words.join(" ") } : {});
  switch (name) {
    case "kick":
    case "ban":
      return { name, user: user(), ...reason() };
    case "unban":
    case "untimeout":
    case "mod":
    case "unmod":
      return { name, user: user() };
    case "timeout": {
      const target = user();
      const seconds = parseDuration(words.shift() ?? "");
      if (seconds === undefined) throw bad("/timeout @user 5m [reason]: give a duration like 5m or 300s");
      return { name, user: target, seconds, ...reason() };
    }
    case "slow": {
      const word = words[0] ?? "";
      const seconds = word === "off" ? 0 : parseDuration(word);
      if (seconds === undefined) throw bad("/slow 10 (seconds), or /slow off");
      return { name, seconds };
    }
    case "rules":
      return { name, text: rest.trim() };
    case "me":
      if (!rest.trim()) throw new ProtocolError("chat.empty");
      return { name, text: rest.trim() };
    default:
      return undefined;
  }
}
