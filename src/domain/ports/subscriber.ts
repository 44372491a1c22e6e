// The subscriber port: how a delivery reaches an event subscription's URL (an HTTP POST; the
// implementation is src/outgoing/subscriber-client.ts). The domain signs and times it.
export interface SubscriberClient {
  /**
   * POSTs `body` to `url` with `headers` and answers the HTTP status; throws when no answer came
   * (unreachable, refused, or `signal` aborted: a timeout, a removal, a stop). Redirects are not
   * followed (a 3xx is the answer).
   */
  post(
    url: string,
    body: string,
    headers: Readonly<Record<string, string>>,
    signal: AbortSignal,
  ): Promise<number>;
}
