// MessagePack frames (protocol section 0): the same frames in binary messages; once a client
// sends one, it is answered in MessagePack, while JSON clients in the same channel keep JSON.
import { afterAll, beforeAll, expect, it } from "vitest";
import { TestClient } from "../support/client.ts";
import { startTestParley, type TestParley, unique } from "../support/parley.ts";

let parley: TestParley;
beforeAll(async () => {
  parley = await startTestParley();
});
afterAll(async () => {
  await parley?.stop();
});

it("a MessagePack client authenticates, joins, sends and receives, beside a JSON client", async () => {
  const channel = unique("binary");
  const packed = await TestClient.connect(parley.url());
  packed.useMessagePack();
  const auth = await packed.authenticate({ token: await parley.token(unique("packed"), "Packed") });
  expect(auth[0]).toBe("authenticated");
  expect(packed.binaryFrames).toBe(1);
  const json = await TestClient.login(parley.url(), { token: await parley.token(unique("json"), "Json") });
  await json.ok("chat.join", { channel });

  const joined = await packed.ok("chat.join", { channel });
  expect(joined.state).toMatchObject({ name: channel });
  await packed.say(channel, "binary hello");
  const atJson = await json.waitForEvent((e) => (e.content as { body?: string }).body === "binary hello");
  const atPacked = await packed.waitForEvent((e) => (e.content as { body?: string }).body === "binary hello");
  expect(atPacked).toEqual(atJson);
  await json.say(channel, "json hello");
  await packed.waitForEvent((e) => (e.content as { body?: string }).body === "json hello");
  packed.send(["ping", 42]);
  expect(await packed.waitFor((f) => f[0] === "pong")).toEqual(["pong", 42]);
  // Everything the MessagePack client got was binary; the JSON client got none.
  expect(packed.binaryFrames).toBe(packed.received.length);
  expect(json.binaryFrames).toBe(0);
  expect(await packed.errorCode("chat.nope", {})).toBe("protocol.unknown_command");
  packed.close();
  json.close();
});
