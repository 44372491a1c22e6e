// Who hears whom: one rule for live pushes, notifications and fetched history. A listener hears
// an event unless their audience in the channel keeps it from them (vip / quiet), it is a
// message from someone they ignore, or it is held for media review (only moderators and the
// sender hear those; an edit or delete of a held message also its sender). Worked out once per event, not once per recipient: for almost
// every event nobody is left out, and the fan-out then runs without a filter at all.
import type { ChatEvent } from "../protocol/events.ts";
import type { UserId } from "../protocol/ids.ts";
import { asEventSeq } from "../protocol/ids.ts";
import type { Audiences } from "./moderation/audiences.ts";
import type { Roles } from "./moderation/roles.ts";
import type { PersonalControls } from "./personal-controls.ts";
import type { ChannelRow, Store } from "./ports/store.ts";

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
  store: Pick<Store, "eventBySeq">;
}): Hearing {
  const { audiences, personalControls, roles, store } = deps;
  /**
   * Who, besides moderators, hears a held (or private) event: its sender, and the sender of what
   * it changes.
   */
  const heldFor = async (channel: ChannelRow, event: ChatEvent): Promise<ReadonlySet<UserId>> => {
    const original =
      event.replaces === undefined
        ? undefined
        : await store.eventBySeq(channel.id, asEventSeq(event.replaces));
    return new Set([event.sender, original?.sender ?? undefined].filter((u) => u !== undefined));
  };
  const filterFor = async (channel: ChannelRow, event: ChatEvent): Promise<ListenerFilter | null> => {
    if (event.event_type !== "channel.message") return null;
    const audience = await audiences.filterFor(channel, event);
    const ignorers = event.sender === undefined ? undefined : await personalControls.ignorersOf(event.sender);
    const held = event.pending_review === true ? await heldFor(channel, event) : undefined;
    // To chosen recipients: they, its sender (and the sender of what it edits or deletes) and the
    // channel's moderators hear it, nobody else; the other rules still apply on top.
    const to = event.to;
    const privy = to === undefined ? undefined : new Set([...to, ...(await heldFor(channel, event))]);
    if (!audience && !ignorers?.size && !held && !privy) return null;
    return (listener) =>
      (!privy || privy.has(listener) || roles.canModerate(channel, listener)) &&
      (!held || held.has(listener) || roles.canModerate(channel, listener)) &&
      !ignorers?.has(listener) &&
      (!audience || audience(listener));
  };
  return {
    filterFor,
    hears: async (channel, listener, event) => (await filterFor(channel, event))?.(listener) ?? true,
  };
}
