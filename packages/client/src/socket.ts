// The little of a WebSocket the client needs: the browser's, Node's global one (Node >= 22), or a
// fake in tests.
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
}

export type SocketFactory = new (url: string) => SocketLike;

export const OPEN = 1;

export function defaultSocketFactory(): SocketFactory {
  const native = (globalThis as { WebSocket?: SocketFactory }).WebSocket;
  if (!native) throw new Error("no WebSocket in this environment: pass one as the `WebSocket` option");
  return native;
}
