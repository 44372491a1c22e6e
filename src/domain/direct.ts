// Direct channels: `chat.direct.create` with a set of users. The same set always reuses one
// channel (its name is derived from the set), an empty list is a channel with oneself. On Matrix
// it is a DM room (`is_direct`) created by the creator's puppet, which Element shows as a DM.
import { createHash } from "node:crypto";
import type { Logger } from "../logging.ts";
import { ProtocolError } from "../protocol/errors.ts";
import { asChannelName, type ChannelName, type RoomId, type UserId } from "../protocol/ids.ts";
import type { Actor } from "./actor.ts";
import type { Channels } from "./channels.ts";
import type { ChannelSnapshot, Membership } from "./membership.ts";
import type { Naming } from "./naming.ts";
import type { PersonalControls } from "./personal-controls.ts";
import type { FanOut } from "./ports/fanout.ts";
import type { MatrixPort } from "./ports/matrix.ts";
import { type SharedRateLimiter, takeForActor, type UserAndAddressRule } from "./ports/rate-limit.ts";
import type { ChannelRow, Store } from "./ports/store.ts";
import type { Presence } from "./presence.ts";
import { retryWhenRateLimited } from "./retry.ts";
import type { MemberEvent } from "./room-events.ts";
import type { Users } from "./users.ts";

export const MAX_DIRECT_MEMBERS = 20;
/** How long a node may take to make a conversation's room before another may try. */
const DIRECT_LEASE_MS = 30_000;

export interface Direct {
  create(actor: Actor, users: readonly UserId[]): Promise<ChannelSnapshot & { id: ChannelName }>;
  /**
   * A Matrix user invited a native user's puppet into a room of theirs: a direct invitation
   * opens a direct channel for the native user (joined, their connections subscribed, as a DM a
   * native user starts); anything else, or one from someone they block, is declined with a reason.
   */
  invited(invitation: MemberEvent): Promise<void>;
}

/** The channel of a DM a Matrix user started: named after its room, apart from the set-derived ones. */
export const invitedChannelName = (roomId: RoomId): ChannelName =>
  asChannelName(`dm.${createHash("sha256").update(`room\n${roomId}`).digest("hex").slice(0, 32)}`);

export const directChannelName = (members: readonly UserId[]): ChannelName =>
  asChannelName(
    `dm.${createHash("sha256")
      .update([...members].sort().join("\n"))
      .digest("hex")
      .slice(0, 32)}`,
  );

export interface DirectDeps {
  readonly store: Store;
  readonly matrix: MatrixPort;
  readonly channels: Channels;
  readonly membership: Membership;
  readonly personalControls: PersonalControls;
  readonly users: Users;
  readonly fanout: FanOut;
  readonly naming: Naming;
  readonly creation: { limiter: SharedRateLimiter; rules: UserAndAddressRule };
  /** Do-not-disturb keeps new direct channels away (existing ones still work). */
  readonly presence: Pick<Presence, "isDoNotDisturb">;
  /** This node's name, for the lease that lets one node at a time make a conversation's room. */
  readonly nodeId: string;
  readonly log: Logger;
}

export function createDirect(deps: DirectDeps): Direct {
  const {
    store,
    matrix,
    channels,
    membership,
    personalControls,
    users,
    fanout,
    naming,
    creation,
    presence,
    nodeId,
    log,
  } = deps;
  const creating = new Map<ChannelName, Promise<ChannelRow>>();
  const decline = async (invitation: MemberEvent, reason: string) => {
    log.info(`declined ${invitation.sender}'s invitation of ${invitation.target}: ${reason}`);
    // The puppet says it, so it must exist on the homeserver.
    await users.preparePuppet(invitation.target);
    await matrix.declineInvite(invitation.roomId, invitation.target, reason);
  };
  return {
    async invited(invitation) {
      const { sender, target, roomId } = invitation;
      const known = await store.channelByRoom(roomId);
      if (known) {
        // Another native user invited into a direct room a Matrix user started (a group DM).
        const members = await store.directMembers(known.id);
        if (members.length === 0 || members.includes(target) || !(await users.native(target))) return;
        // The same rules as a new conversation: someone they block, or do-not-disturb, is told no.
        if (await personalControls.blocks(target, sender)) {
          await decline(invitation, "This user does not take your messages.");
          return;
        }
        if (await presence.isDoNotDisturb(target)) {
          await decline(invitation, "This user does not want to be disturbed now; try later.");
          return;
        }
        await store.setDirectMembers(known.id, [...members, target].sort());
        await membership.addMember(known, target);
        fanout.subscribeUser(known.name, target);
        return;
      }
      if (!invitation.isDirect) {
        await decline(
          invitation,
          "Parley users join channels from their app; invite them to a direct chat instead.",
        );
        return;
      }
      const user = await users.native(target);
      if (!user) {
        // Nobody to speak for: the invitation stays unanswered (a puppet of no one is not made).
        log.info(`${sender} invited ${target}, who has never logged in: left unanswered`);
        return;
      }
      if (await personalControls.blocks(target, sender)) {
        await decline(invitation, `${user.displayName ?? "This user"} does not take your messages.`);
        return;
      }
      if (invitation.encrypted) {
        await decline(
          invitation,
          "This is an encrypted room, which the app cannot read; start an unencrypted direct chat instead.",
        );
        return;
      }
      // Any server's users can invite: the conversations they open cost like native ones.
      const allowed = await creation.limiter.take(`direct-invites:${sender}`, creation.rules.user);
      if (!allowed.ok) {
        await decline(invitation, "Too many new conversations from you right now; try again later.");
        return;
      }
      if (await presence.isDoNotDisturb(target)) {
        await decline(
          invitation,
          `${user.displayName ?? "This user"} does not want to be disturbed now; try later.`,
        );
        return;
      }
      const name = invitedChannelName(roomId);
      const channel = await channels.adopt(name, roomId);
      await store.setJoinRule(channel.id, "invite");
      await store.setChannelCreator(channel.id, invitation.roomCreator ?? sender);
      await store.setDirectMembers(channel.id, [sender, target].sort());
      // The inviter is in their room already; their join happened before Parley knew the room.
      const profile = await matrix.getProfile(sender).catch(() => undefined);
      if ((await store.member(channel.id, sender))?.membership !== "join") {
        await store.setMember({
          channelId: channel.id,
          userId: sender,
          membership: "join",
          profile: { display_name: profile?.display_name ?? null, avatar_url: profile?.avatar_url ?? null },
          at: invitation.ts,
        });
      }
      // Accepted as a DM a native user started: joined (the puppet follows), connections subscribed.
      await membership.addMember((await store.channelById(channel.id)) ?? channel, target);
      fanout.subscribeUser(name, target);
    },
    // Every check comes before the first effect: a refused create leaves no room and no member.
    async create(actor, wanted) {
      const members = [...new Set([...wanted, actor.userId])].sort();
      if (members.length > MAX_DIRECT_MEMBERS) {
        throw new ProtocolError(
          "protocol.invalid_payload",
          `A direct channel has at most ${MAX_DIRECT_MEMBERS} users.`,
          {
            fields: ["users"],
          },
        );
      }
      const others = members.filter((id) => id !== actor.userId);
      for (const other of others) {
        if (await personalControls.blocks(other, actor.userId))
          throw new ProtocolError("chat.denied", `${other} does not take your messages.`);
      }
      await membership.checkJoiner(actor);
      if ((await store.userStatus(actor.userId)).banned) {
        throw new ProtocolError("chat.denied", "You are banned from this platform.");
      }
      const name = directChannelName(members);
      let channel = await channels.find(name);
      if (!channel) {
        for (const other of others) {
          if (await presence.isDoNotDisturb(other)) {
            throw new ProtocolError("user.do_not_disturb", `${other} does not want to be disturbed now.`, {
              user: other,
            });
          }
        }
        // Two asks at once (a double tap) make one room: the second waits for the first.
        const pending = creating.get(name);
        if (pending) channel = await pending;
        else {
          const makeRoom = async (): Promise<ChannelRow> => {
            // The creator's puppet creates the room, so it must exist on the homeserver first.
            await users.ensureNative(actor.userId);
            await users.preparePuppet(actor.userId);
            const room = await matrix.createDirectRoom(actor.userId, others);
            const made = await channels.adopt(name, room.roomId);
            await store.setJoinRule(made.id, "invite");
            // Its creator owns it (above every level, as room v12 has it), from the first reply.
            await store.setChannelCreator(made.id, actor.userId);
            await store.setDirectMembers(made.id, members);
            // Native members are in at once; Matrix members were invited and accept in their client.
            for (const other of others) {
              if (!naming.isNativeUser(other)) continue;
              await membership.addMember(made, other);
              fanout.subscribeUser(name, other);
            }
            for (const id of members.filter((m) => naming.isNativeUser(m))) {
              const partners = members.filter((m) => m !== id);
              const roomId = made.roomId;
              // For Matrix clients of the puppet: in the background, nobody waits on it.
              retryWhenRateLimited(() =>
                matrix.updateAccountData(id, "m.direct", (current) => {
                  const next: Record<string, unknown> = { ...current };
                  for (const partner of partners.length > 0 ? partners : [id]) {
                    const rooms = Array.isArray(next[partner]) ? (next[partner] as string[]) : [];
                    next[partner] = [...new Set([...rooms, roomId])];
                  }
                  return next;
                }),
              ).catch((error: unknown) => log.warn(`m.direct for ${id} not updated`, error));
            }
            return (await store.channelById(made.id)) ?? made;
          };
          const making = (async (): Promise<ChannelRow> => {
            await takeForActor(
              creation.limiter,
              "directs",
              actor,
              creation.rules,
              "You are starting conversations too fast.",
            );
            // One node at a time makes a given conversation's room (the same two people on two
            // nodes at once): the other waits for it and uses it.
            const lease = `direct:${name}`;
            for (let attempt = 0; ; attempt++) {
              if (await store.acquireLease(lease, nodeId, DIRECT_LEASE_MS, Date.now())) break;
              await new Promise((resolve) => setTimeout(resolve, 100));
              const madeElsewhere = await channels.find(name);
              if (madeElsewhere) return madeElsewhere;
              if (attempt > DIRECT_LEASE_MS / 100)
                throw new Error(`the room of ${name} is taking too long elsewhere`);
            }
            const elsewhere = await channels.find(name);
            if (elsewhere) {
              await store.releaseLease(lease, nodeId);
              return elsewhere;
            }
            try {
              return await makeRoom();
            } finally {
              await store.releaseLease(lease, nodeId).catch(() => undefined);
            }
          })().finally(() => creating.delete(name));
          creating.set(name, making);
          channel = await making;
        }
      }
      // Creating the channel was the limited act: joining it is part of that.
      const snapshot = await membership.join(actor, name, { limited: false });
      return { id: name, ...snapshot };
    },
  };
}
