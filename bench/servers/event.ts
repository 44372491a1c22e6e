// The event every fan-out server broadcasts: the shape and size of Parley's chat.event push for a
// text message, so all three servers move the same bytes per delivery.

/** What a publisher sends to the comparison servers. */
export interface Published {
  readonly channel: string;
  readonly body: string;
}

export const BENCH_SENDER = "@chat_bench_fp:localhost";

export function benchEvent(channel: string, body: string, eventId: number): Record<string, unknown> {
  return {
    channel,
    event_type: "channel.message",
    content: { type: "text", body },
    sender: BENCH_SENDER,
    event_id: eventId,
    ts: Date.now(),
  };
}
