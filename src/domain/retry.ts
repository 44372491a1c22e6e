// Homeserver work Parley does on its own, with nobody waiting on the answer (a slow-mode
// redaction, a read receipt, an account-data mirror): when the homeserver asks to slow down
// (429), wait as long as it says and try again, a few times, before giving up.
import { UpstreamRateLimitedError } from "./ports/matrix.ts";

const ATTEMPTS = 3;
/** However long the homeserver asks for, work nobody waits on is not held longer than this. */
const LONGEST_WAIT_MS = 60_000;

export async function retryWhenRateLimited<T>(work: () => Promise<T>, attempts = ATTEMPTS): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (!(error instanceof UpstreamRateLimitedError) || attempt >= attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.min(error.retryAfterMs, LONGEST_WAIT_MS)));
    }
  }
}
