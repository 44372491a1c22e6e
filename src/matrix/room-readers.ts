// Who reads a room the bridge bot is not in: direct channels keep the bot out (Matrix clients would
// name the room after it), so reading them (history, gap fill, an invite) goes through a native
// member's puppet.
import type { Store } from "../domain/ports/store.ts";
import type { RoomId, UserId } from "../protocol/ids.ts";
import type { RoomReader } from "./matrix-adapter.ts";

export function createRoomReader(store: Store, isNative: (userId: UserId) => boolean): RoomReader {
  return async (roomId: RoomId) => {
    const channel = await store.channelByRoom(roomId);
    if (!channel) return [];
    const readers: UserId[] = [];
    for (const member of await store.joinedMembers(channel.id)) {
      if (isNative(member.userId) && (await store.isPuppetRegistered(member.userId)))
        readers.push(member.userId);
    }
    return readers;
  };
}
