// The metrics' labels stay bounded whatever clients send and whatever ids the homeserver paths
// carry, and the timed fan-out is the same fan-out.
import { describe, expect, it } from "vitest";
import type { Subscriber } from "../../src/domain/ports/fanout.ts";
import { createSingleNodeFanOut } from "../../src/fanout/local.ts";
import { ACTION_NAMES } from "../../src/handlers/router.ts";
import { endpointTemplate } from "../../src/matrix/homeserver-requests.ts";
import { createMetrics } from "../../src/metrics/metrics.ts";
import { ERROR_CODES } from "../../src/protocol/errors.ts";
import { type EncodedFrame, pushFrame } from "../../src/protocol/frames.ts";
import type { ChannelName, UserId } from "../../src/protocol/ids.ts";

const metrics = () => createMetrics({ actions: ACTION_NAMES, errorCodes: Object.keys(ERROR_CODES) });

describe("homeserver endpoint labels", () => {
  it.each([
    [
      "/_matrix/client/v3/rooms/!abc%3Alocalhost/send/m.room.message/parley.x.7",
      "/_matrix/client/v3/rooms/{}/send/m.room.message/{}",
    ],
    [
      "/_matrix/client/v3/rooms/!abc:localhost/state/m.room.member/@chat_alice:localhost",
      "/_matrix/client/v3/rooms/{}/state/m.room.member/{}",
    ],
    [
      "/_matrix/client/v3/profile/%40chat_bob%3Alocalhost/displayname",
      "/_matrix/client/v3/profile/{}/displayname",
    ],
    ["/_matrix/client/v3/directory/room/%23chat_x%3Alocalhost", "/_matrix/client/v3/directory/room/{}"],
    ["/_matrix/client/v1/media/download/localhost/AbCdEf", "/_matrix/client/v1/media/download/{}/{}"],
    ["/_matrix/client/v3/register?kind=user", "/_matrix/client/v3/register"],
    ["/a/b/c/d/e/f/g/h/i/j/k/l", "/{}/{}/{}/{}/{}/{}/{}/{}/{}/{}/..."],
  ])("%s is %s", (path, template) => {
    expect(endpointTemplate(path)).toBe(template);
  });
});

describe("metrics", () => {
  it("counts unknown actions and codes as `other`, never as what the client sent", async () => {
    const m = metrics();
    m.gateway.frameIn("chat.send");
    m.gateway.frameIn("x".repeat(200));
    m.gateway.replied("x".repeat(200), "made.up.code");
    m.gateway.replied("chat.send", "rate_limited");
    const text = await m.text();
    expect(text).toContain('parley_frames_in_total{action="chat.send"} 1');
    expect(text).toContain('parley_frames_in_total{action="other"} 1');
    expect(text).toContain('parley_frames_out_total{action="other",kind="reply"} 1');
    expect(text).toContain('parley_errors_total{code="other"} 1');
    expect(text).toContain('parley_errors_total{code="rate_limited"} 1');
    expect(text).not.toContain("xxxx");
  });

  it("times event pushes once each, and the timed fan-out delivers like the fan-out", async () => {
    const m = metrics();
    const fanout = m.timed(createSingleNodeFanOut());
    const got: string[] = [];
    const alice: Subscriber = {
      id: 1,
      userId: "@chat_alice:x" as UserId,
      batchesMemberEvents: false,
      deliver: (frame: EncodedFrame) => {
        m.gateway.pushed(frame.action);
        got.push(frame.action);
      },
      close: () => undefined,
    };
    const room = "room" as ChannelName;
    fanout.addConnection(alice);
    fanout.subscribe(room, alice);
    expect(fanout.isSubscribed(room, alice)).toBe(true);
    fanout.publishHere(room, pushFrame("chat.event", { ts: Date.now() - 2_000, event_id: 1 }));
    fanout.publish(room, pushFrame("chat.typing", { channel: room, users: [] }));
    expect(got).toEqual(["chat.event", "chat.typing"]);
    const text = await m.text();
    expect(text).toContain("parley_delivery_latency_seconds_count 1");
    expect(text).toMatch(/parley_delivery_latency_seconds_bucket\{le="1"\} 0\n/);
    expect(text).toMatch(/parley_delivery_latency_seconds_bucket\{le="2.5"\} 1\n/);
    expect(text).toContain("parley_fanout_deliveries_total 2");
    expect(text).toContain('parley_frames_out_total{action="chat.event",kind="push"} 1');
  });
});
