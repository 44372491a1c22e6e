// The marker Parley puts into the content of every event its outbox mirrors to Matrix. Synapse
// echoes puppets' events back through the appservice stream without the txnId that made them;
// the marker is how Parley knows such an echo as the mirror of an entry it already logged, even
// when it died between Synapse's answer and recording it.
import { z } from "zod";

export const MARKER_KEY = "org.parley.entry";

const markedSchema = z.object({ content: z.object({ [MARKER_KEY]: z.string().max(200) }).loose() }).loose();

/** The marker of a raw event, if it carries one. */
export function markerOf(raw: unknown): string | undefined {
  const parsed = markedSchema.safeParse(raw);
  return parsed.success ? parsed.data.content[MARKER_KEY] : undefined;
}
