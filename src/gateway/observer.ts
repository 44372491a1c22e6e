// What the gateway tells whoever watches it (the metrics, src/metrics/): connections, frames in and
// out, error replies, pushes. Called on hot paths: implementations must be cheap and never throw.
// Labels are what the gateway sees (an incoming action may be any string a client sent): the
// observer bounds them.

export interface GatewayObserver {
  connectionOpened(): void;
  connectionClosed(): void;
  /** A frame from a client: a request's action, or `authenticate`, `ping`, `bad`. */
  frameIn(action: string): void;
  /** A reply to a client's frame, labelled like the frame it answers; `errorCode` if an error. */
  replied(action: string, errorCode: string | undefined): void;
  /** A push (its action, e.g. `chat.event`) handed to one connection. */
  pushed(action: string): void;
}

const nothing = () => undefined;

export const UNOBSERVED: GatewayObserver = {
  connectionOpened: nothing,
  connectionClosed: nothing,
  frameIn: nothing,
  replied: nothing,
  pushed: nothing,
};
