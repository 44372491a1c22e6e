// The inbox with the real store and domain, and a recording fan-out instead of sockets.

import { describe, expect, it } from "vitest";
import type { Activity } from "../../src/domain/activity.ts";
import { createChannels } from "../../src/domain/channels.ts";
import { createEventLog } from "../../src/domain/event-log.ts";
import { createInbound, type Inbound } from "../../src/domain/inbound.ts";
import type { MatrixPort } from "../../src/domain/ports/matrix.ts";
import { createMediaUrls } from "../../src/domain/media-urls.ts";
import { createNaming } from "../../src/domain/naming.ts";
import type { Notifications } from "../../src/domain/notifications.ts";
import { createRoles } from "../../src/domain/moderation/roles.ts";
import type { Settings } from "../../src/domain/moderation/settings.ts";
import type { Typing } from "../../src/domain/typing.ts";
import { createUsers } from "../../src/domain/users.ts";
import { createMemoryRateLimiter } from "../../src/limits/memory.ts";
import type { Logger } from "../../src/logging.ts";
import { createInbox } from "../../src/matrix/inbox.ts";
import type { ChatEvent } from "../../src/protocol/events.ts";
import type { OutgoingFrame } from "../../src/protocol/frames.ts";
import { asChannelName, asRoomId } from "../../src/protocol/ids.ts";
import { openSqliteStore } from "../../src/store/sqlite/store.ts";

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };
const unusedMatrix = new Proxy({} as MatrixPort, {
  get: (_t, key) => () => Promise.reject(new Error(`Matrix port used in a unit test: ${String(key)}`)),
});

function setup(wrap?: (inbound: Inbound) => Inbound) {
  const store = openSqliteStore(":memory:");
  const published: OutgoingFrame[] = [];
  const publish = (_channel: unknown, event: ChatEvent) => {
    published.push(["chat.event", event]);
  };
  const activity: Activity = {
    touch() {},
    isOnline: () => false,
    connectionOpened() {},
    connectionClosed() {},
    flush() {},
    stop() {},
  };
  const naming = createNaming({
    serverName: "x",
    userPrefix: "chat_",
    aliasPrefix: "chat_",
    botLocalpart: "parley",
  });
  const channels = createChannels({
    store,
    matrix: unusedMatrix,
    naming,
    roles: createRoles(naming),
    policy: {
      limiter: createMemoryRateLimiter(),
      rules: { user: { burst: 1, perMinute: 1 }, address: { burst: 1, perMinute: 1 } },
      guestsCreate: true,
    },
  });
  const notifications: Notifications = { mentioned() {}, counts: () => ({}), read() {} };
  const settings = { tooFast: () => false, posted() {} } as unknown as Settings;
  const typing: Typing = { setNative: async () => {}, matrixTyping() {}, userGone() {} };
  const inbound = createInbound(
    store,
    channels,
    createUsers({
      store,
      matrix: unusedMatrix,
      naming,
      lookups: { limiter: createMemoryRateLimiter(), rule: { burst: 1, perMinute: 1 } },
    }),
    createEventLog(store, publish),
    naming,
    activity,
    notifications,
    typing,
    settings,
    () => {},
  );
  const inbox = createInbox(
    store,
    wrap ? wrap(inbound) : inbound,
    createMediaUrls("http://parley.test"),
    quiet,
  );
  channels.adopt(asChannelName("room_0"), asRoomId("!room:x"));
  return { store, published, inbox };
}

let n = 0;
const message = (body: string, extra: Record<string, unknown> = {}) => ({
  event_id: `$m${++n}`,
  room_id: "!room:x",
  sender: "@carol:x",
  type: "m.room.message",
  origin_server_ts: 1000 + n,
  content: { msgtype: "m.text", body },
  ...extra,
});

const bodies = (published: OutgoingFrame[]) =>
  published.map((f) => (f[1] as { content: { body?: string } }).content.body);

describe("the transaction inbox", () => {
  it("turns Matrix text into channel.message events with increasing ids, in order", async () => {
    const { inbox, published } = setup();
    inbox.record([
      message("one"),
      message("two"),
      { ...message("three"), content: { msgtype: "m.emote", body: "three" } },
    ]);
    await inbox.drain();
    expect(bodies(published)).toEqual(["one", "two", "three"]);
    expect(published.map((f) => (f[1] as { event_id: number }).event_id)).toEqual([1, 2, 3]);
    expect(published[2]?.[1]).toMatchObject({
      content: { type: "emote" },
      sender: "@carol:x",
      channel: "room_0",
    });
  });

  it("ignores a replayed event", async () => {
    const { inbox, published } = setup();
    const event = message("once");
    inbox.record([event]);
    await inbox.drain();
    inbox.record([event, { ...event }]);
    await inbox.drain();
    expect(bodies(published)).toEqual(["once"]);
  });

  it("records and skips what it cannot understand, and keeps flowing", async () => {
    const { inbox, published, store } = setup();
    inbox.record([
      message("before"),
      { event_id: "$odd", room_id: "!room:x", type: "m.room.message", content: "not an object" },
      { ...message("x"), type: "org.example.custom" },
      {
        ...message("edit"),
        content: { msgtype: "m.text", body: "* edit", "m.relates_to": { rel_type: "m.replace" } },
      },
      message("elsewhere", { room_id: "!other:x" }),
      "garbage",
      message("after"),
    ]);
    await inbox.drain();
    expect(bodies(published)).toEqual(["before", "after"]);
    expect(store.pendingInbox(10)).toEqual([]);
  });

  it("marks an event whose processing throws as failed and goes on", async () => {
    const { inbox, published, store } = setup((inbound) => ({
      ...inbound,
      handle: (input) => {
        if (input.kind === "message" && "body" in input.event.content && input.event.content.body === "boom")
          throw new Error("boom");
        return inbound.handle(input);
      },
    }));
    const boom = message("boom");
    inbox.record([boom, message("fine")]);
    await inbox.drain();
    expect(bodies(published)).toEqual(["fine"]);
    expect(store.pendingInbox(10)).toEqual([]);
    // Recorded as failed (not done, not skipped), with the reason.
    expect(store.inboxStatus(boom.event_id)).toEqual({ status: "failed", note: "boom" });
  });

  it("shows Matrix joins and leaves with the member's display name", async () => {
    const { inbox, published } = setup();
    const member = (membership: string, content: Record<string, unknown> = {}) => ({
      ...message(""),
      type: "m.room.member",
      state_key: "@carol:x",
      content: { membership, ...content },
    });
    inbox.record([
      member("join", { displayname: "Carol" }),
      member("join", { displayname: "Carol B" }),
      member("leave"),
    ]);
    await inbox.drain();
    expect(published.map((f) => (f[1] as { content: unknown }).content)).toEqual([
      { membership: "join", user: { id: "@carol:x", profile: { display_name: "Carol", avatar_url: null } } },
      {
        membership: "leave",
        user: { id: "@carol:x", profile: { display_name: "Carol B", avatar_url: null } },
      },
    ]);
  });
});
