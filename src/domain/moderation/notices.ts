// What Matrix users read of native moderation: the bot's notices, in plain words, naming who did
// it. (Native clients get the same as structured pushes: chat.moderation, chat.settings.)
import type { UserId } from "../../protocol/ids.ts";
import type { ChannelRow, Store } from "../ports/store.ts";

/** A user as the room knows them: their display name, or their id. */
export async function nameIn(store: Store, channel: ChannelRow, userId: UserId): Promise<string> {
  const native = await store.nativeUser(userId);
  if (native?.displayName) return native.displayName;
  return (await store.member(channel.id, userId))?.displayName ?? userId;
}

/** 300 -> "5 minutes", 90 -> "90 seconds", 7200 -> "2 hours". */
export function duration(seconds: number): string {
  const unit = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
  if (seconds % 3600 === 0) return unit(seconds / 3600, "hour");
  if (seconds % 60 === 0) return unit(seconds / 60, "minute");
  return unit(seconds, "second");
}

const withReason = (text: string, reason: string | null | undefined) =>
  reason ? `${text}: ${reason}` : `${text}.`;

export const timeoutNotice = (
  moderator: string,
  target: string,
  seconds: number | undefined,
  reason?: string | null,
) =>
  withReason(
    seconds === undefined
      ? `${moderator} muted ${target} until a moderator lifts it`
      : `${moderator} timed out ${target} for ${duration(seconds)}`,
    reason,
  );

export const timeoutEndedNotice = (target: string, liftedBy?: string) =>
  liftedBy ? `${liftedBy} lifted ${target}'s timeout.` : `${target}'s timeout is over.`;

export function slowModeNotice(moderator: string, seconds: number): string {
  return seconds === 0
    ? `${moderator} turned slow mode off.`
    : `${moderator} turned slow mode on: one message every ${duration(seconds)} (moderators excepted).`;
}

export function rulesNotice(moderator: string, rules: string | null, required: boolean): string {
  if (!rules) return `${moderator} removed the channel's rules.`;
  const must = required ? " Native users accept them before posting." : "";
  return `${moderator} set the channel's rules:${must}\n${rules}`;
}
