// Reading a room's m.room.power_levels content (as stored for the channel).
import { z } from "zod";
import type { UserId } from "../../protocol/ids.ts";

const powerLevelsSchema = z
  .object({
    users: z.record(z.string(), z.number()).optional(),
    users_default: z.number().optional(),
    events_default: z.number().optional(),
    redact: z.number().optional(),
    events: z.record(z.string(), z.number()).optional(),
  })
  .loose();

export interface PowerLevels {
  of(userId: UserId): number;
  readonly redact: number;
  /** The level needed to post a message (m.room.message, else events_default). */
  readonly post: number;
}

export function readPowerLevels(content: unknown): PowerLevels {
  const parsed = powerLevelsSchema.safeParse(content ?? {});
  const levels = parsed.success ? parsed.data : {};
  return {
    of: (userId) => levels.users?.[userId] ?? levels.users_default ?? 0,
    redact: levels.redact ?? 50,
    post: levels.events?.["m.room.message"] ?? levels.events_default ?? 0,
  };
}
