// Who hears whom: one rule for live pushes, notifications and fetched history. A listener hears
// an event unless their audience in the channel keeps it from them (vip / quiet), or it is a
// message from someone they ignore. Worked out once per event, not once per recipient: for almost
// every event nobody is left out, and the fan-out then runs without a filter at all.
import type { ChatEvent } from "../protocol/events.ts";
import type { UserId } from "../protocol/ids.ts";
import type { Audiences } from "./moderation/audiences.ts";
import type { Roles } from "./moderation/roles.ts";
import type { PersonalControls } from "./personal-controls.ts";
import type { ChannelRow } from "./ports/store.ts";

/** Whether one listener hears the event; must not block (it runs per recipient). */
export type ListenerFilter = (listener: UserId) => boolean;

export interface Hearing {
  /** The filter for this event's listeners, or null when every listener hears it. */
  filterFor(channel: ChannelRow, event: ChatEvent): Promise<ListenerFilter | null>;
  hears(channel: ChannelRow, listener: UserId, event: ChatEvent): Promise<boolean>;
}

export function createHearing(deps: {
  audiences: Audiences;
  personalControls: PersonalControls;
  roles: Pick<Roles, "canModerate">;
}): Hearing {
  const { audiences, personalControls, roles } = deps;
  const filterFor = async (channel: ChannelRow, event: ChatEvent): Promise<ListenerFilter | null> => {
    if (event.event_type !== "channel.message") return null;
    // To chosen recipients: they, the sender and the channel's moderators hear it, nobody else.
    const to = event.to;
    if (to !== undefined) {
      return (listener) =>
        listener === event.sender || to.includes(listener) || roles.canModerate(channel, listener);
    }
    const audience = await audiences.filterFor(channel, event);
    const ignorers = event.sender === undefined ? undefined : await personalControls.ignorersOf(event.sender);
    if (!audience && !ignorers?.size) return null;
    return (listener) => !ignorers?.has(listener) && (!audience || audience(listener));
  };
  return {
    filterFor,
    hears: async (channel, listener, event) => (await filterFor(channel, event))?.(listener) ?? true,
  };
}
