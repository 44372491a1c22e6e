// The bus of a one-node installation: there is nobody else to tell.
import type { ClusterBus } from "../domain/ports/bus.ts";

export function createLocalBus(nodeId = "single"): ClusterBus {
  return {
    nodeId,
    publishEvent: () => undefined,
    onEvent: () => undefined,
    notify: () => undefined,
    onNotice: () => undefined,
    onResubscribed: () => undefined,
  };
}
