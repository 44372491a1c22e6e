// Deliveries of event subscriptions over HTTP, with Node's global fetch. The answer's body is
// not read: only its status counts, and the connection goes back to the pool at once.
import type { SubscriberClient } from "../domain/ports/subscriber.ts";

export function createSubscriberClient(): SubscriberClient {
  return {
    async post(url, body, headers, signal) {
      const response = await fetch(url, { method: "POST", headers, body, signal, redirect: "manual" });
      await response.body?.cancel().catch(() => undefined);
      return response.status;
    },
  };
}
