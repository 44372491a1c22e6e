// Who hears whom: one rule for live pushes, notifications and fetched history. A listener hears
// an event unless their audience in the channel keeps it from them (vip / quiet), or it is a
// message from someone they ignore. Must not block: it runs per recipient on the fan-out path.
import type { ChatEvent } from "../protocol/events.ts";
import type { UserId } from "../protocol/ids.ts";
import type { Audiences } from "./moderation/audiences.ts";
import type { PersonalControls } from "./personal-controls.ts";
import type { ChannelRow } from "./ports/store.ts";

export type Hears = (channel: ChannelRow, listener: UserId, event: ChatEvent) => boolean;

export function createHearing(deps: { audiences: Audiences; personalControls: PersonalControls }): Hears {
  const { audiences, personalControls } = deps;
  return (channel, listener, event) =>
    audiences.hears(channel, listener, event) && !personalControls.hides(listener, event);
}
