// Seeded generators of hostile frames for the fuzz test (test/e2e/fuzz.test.ts) and the long run
// (`npm run fuzz`): garbage bytes, deep nesting, huge and odd numbers, lone surrogates, prototype
// keys, wrong types in every field of every action, sizes around the limit; a few valid frames
// among them so that the server also does real work while being attacked.
import { encode as encodeMsgpack } from "@msgpack/msgpack";
import fc from "fast-check";

/** What the generators may name: the fuzz user's world, set up before the run. */
export interface FuzzWorld {
  /** Channels: one the fuzzer owns and joined, one it may not post in, others. */
  readonly channels: readonly string[];
  readonly users: readonly string[];
  readonly maxPayloadBytes: number;
}

export interface FuzzFrame {
  /** What goes on the wire. */
  readonly data: string | Uint8Array;
  readonly binary: boolean;
  /** The action named, when the frame had one (for the report). */
  readonly action: string;
  /** Larger than the limit: the answer is a close with 1009, not a reply. */
  readonly oversize: boolean;
}

const EVIL_NAMES = ["__proto__", "constructor", "toString", "hasOwnProperty", "valueOf", "prototype"];
const LONE_SURROGATES = ["\ud800", "a\udc00b", "\udfff", "x\ud83d"];

const shallowEvil: fc.Arbitrary<unknown> = shallowEvilValues();

const deep = (depth: number, leaf: unknown, asObject: boolean): unknown => {
  let value = leaf;
  for (let i = 0; i < depth; i++) value = asObject ? { a: value } : [value];
  return value;
};

/** Values that are wrong almost anywhere. */
const evilValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 1, arbitrary: fc.integer({ min: 17, max: 64 }).map((depth) => deep(depth, 1, false)) },
  { weight: 1, arbitrary: fc.integer({ min: 17, max: 64 }).map((depth) => deep(depth, "x", true)) },
  { weight: 30, arbitrary: shallowEvil },
);

function shallowEvilValues(): fc.Arbitrary<unknown> {
  return fc.oneof(
    fc.constantFrom<unknown>(
      null,
      true,
      false,
      0,
      -1,
      0.5,
      -0,
      1e308,
      -1e308,
      2 ** 53 + 1,
      Number.MAX_SAFE_INTEGER,
      "",
      " ",
      "\u0000",
      "💥".repeat(40),
      [],
      {},
      [[[]]],
      { __proto__: null, constructor: 1 },
    ),
    fc.constantFrom(...LONE_SURROGATES),
    fc.constantFrom(...EVIL_NAMES),
    fc.string({ maxLength: 80 }),
    fc.string({ unit: "binary", maxLength: 40 }),
    fc.integer(),
    fc.double(),
    fc.integer({ min: 100, max: 5_000 }).map((length) => "x".repeat(length)),
    fc.jsonValue({ maxDepth: 4 }),
    fc.dictionary(fc.constantFrom(...EVIL_NAMES, "a", "b"), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
  );
}

/** Channel names: the world's own, reserved-looking ones, invalid ones. */
const channelOf = (world: FuzzWorld): fc.Arbitrary<unknown> =>
  fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...world.channels) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        "dm.0123456789abcdef0123456789abcdef",
        "x.mods",
        "mods.1",
        "__proto__",
        "constructor",
      ),
    },
    { weight: 1, arbitrary: evilValue },
  );

const userOf = (world: FuzzWorld): fc.Arbitrary<unknown> =>
  fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...world.users) },
    {
      weight: 1,
      arbitrary: fc.constantFrom("@parley:localhost", "@x:169.254.169.254", "@__proto__:localhost"),
    },
    { weight: 1, arbitrary: evilValue },
  );

const smallId = fc.oneof(fc.integer({ min: -3, max: 40 }), evilValue);

/** A payload that is valid (or nearly) for each action; mutation then breaks it. */
function templates(world: FuzzWorld): Record<string, fc.Arbitrary<Record<string, unknown>>> {
  const channel = channelOf(world);
  const user = userOf(world);
  const text = fc.oneof(fc.string({ minLength: 1, maxLength: 30 }), fc.constantFrom(...EVIL_NAMES, "👍"));
  const body = fc.oneof(
    { weight: 5, arbitrary: fc.string({ minLength: 1, maxLength: 60 }) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        "/me waves",
        "/slow 5",
        "/kick @bystander",
        "/timeout @x 5m",
        "/rules be nice",
      ),
    },
  );
  const content = fc.oneof(
    fc.record({ type: fc.constantFrom("text", "emote", "notice"), body }),
    fc.record({
      type: fc.constant("files"),
      files: fc.array(
        fc.record({
          url: fc.constant("https://example.org/a.png"),
          name: text,
          mimeType: fc.constant("image/png"),
        }),
        { minLength: 1, maxLength: 2 },
      ),
    }),
    fc.record({ type: fc.constant("deleted") }),
  );
  const channelOnly = fc.record({ channel });
  const moderate = fc.record({ channel, user, reason: fc.option(text, { nil: undefined }) });
  const id = fc.record({ id: user });
  return {
    "chat.join": channelOnly,
    "chat.leave": channelOnly,
    "chat.subscribe": channelOnly,
    "chat.unsubscribe": channelOnly,
    "chat.send": fc.record(
      {
        channel,
        event_type: fc.constantFrom("channel.message", "channel.member", "x"),
        content,
        txn_id: text,
        reply_to: smallId,
        replaces: smallId,
      },
      { requiredKeys: ["channel", "event_type", "content"] },
    ),
    "chat.react": fc.record(
      { channel, event: smallId, reaction: text, delete: fc.boolean() },
      { requiredKeys: ["channel", "event", "reaction"] },
    ),
    "chat.typing": fc.record({ channel, typing: fc.boolean() }),
    "chat.fetch": fc.record(
      { channel, count: fc.integer({ min: -1, max: 250 }), before_id: smallId, after_id: smallId },
      { requiredKeys: ["channel"] },
    ),
    "chat.mark_read": fc.record({ channel, id: smallId }),
    "chat.members": channelOnly,
    "chat.media": fc.record(
      { channel, before_id: smallId, count: fc.integer({ min: 0, max: 120 }) },
      { requiredKeys: ["channel"] },
    ),
    "chat.kick": moderate,
    "chat.ban": moderate,
    "chat.unban": moderate,
    "chat.timeout": fc.record({ channel, user, duration: fc.integer({ min: 60, max: 700 }), reason: text }),
    "chat.untimeout": fc.record({ channel, user }),
    "chat.set_role": fc.oneof(
      fc.record({ channel, user, role: fc.constantFrom("owner", "moderator", "user", "admin") }),
      fc.record({ all_channels: fc.constant(true), user, role: fc.constantFrom("moderator", "user") }),
    ),
    "chat.settings": fc.record(
      {
        channel,
        slow_mode: fc.integer({ min: -1, max: 4000 }),
        rules: fc.option(text, { nil: null }),
        rules_required: fc.boolean(),
        guests: fc.boolean(),
        required_claim: fc.option(
          fc.record({ name: text, value: fc.oneof(text, fc.integer(), fc.boolean()) }),
          {
            nil: null,
          },
        ),
      },
      { requiredKeys: ["channel"] },
    ),
    "chat.accept_rules": channelOnly,
    "chat.set_audience": fc.record({ channel, user, audience: fc.constantFrom("vip", "quiet", null, "x") }),
    "chat.mod_channel": channelOnly,
    "chat.direct.create": fc.record(
      { users: fc.array(user, { maxLength: 3 }), hide: fc.boolean() },
      { requiredKeys: ["users"] },
    ),
    "user.update": fc.record({
      profile: fc.record({
        display_name: text,
        avatar_url: fc.option(fc.constant("mxc://localhost/abc"), { nil: null }),
      }),
    }),
    "user.fetch": fc.oneof(id, fc.record({ ids: fc.array(user, { maxLength: 5 }) })),
    "user.block": id,
    "user.unblock": id,
    "user.list.blocked": fc.constant({}),
    "user.ignore": id,
    "user.unignore": id,
    "user.ban": id,
    "user.silence": id,
    "user.reactivate": id,
  };
}

/** Breaks a payload: one field gets an evil value, or vanishes, or evil keys join it. */
function mutate(payload: Record<string, unknown>): fc.Arbitrary<Record<string, unknown>> {
  const keys = Object.keys(payload);
  return fc.oneof(
    fc.tuple(fc.constantFrom(...(keys.length > 0 ? keys : ["channel"])), evilValue).map(([key, value]) => ({
      ...payload,
      [key]: value,
    })),
    fc.constantFrom(...(keys.length > 0 ? keys : ["channel"])).map((key) => {
      const copy = { ...payload };
      delete copy[key];
      return copy;
    }),
    fc.tuple(fc.constantFrom(...EVIL_NAMES), evilValue).map(([key, value]) => {
      const copy: Record<string, unknown> = { ...payload };
      Object.defineProperty(copy, key, { value, enumerable: true, writable: true, configurable: true });
      return copy;
    }),
  );
}

const ref: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 1, max: 1_000_000 }) },
  { weight: 1, arbitrary: fc.string({ minLength: 1, maxLength: 64 }) },
  { weight: 1, arbitrary: evilValue },
);

/** The frame as a value (before encoding): requests, valid or broken, and broken envelopes. */
function frameValue(
  world: FuzzWorld,
  actions: readonly string[],
): fc.Arbitrary<{ value: unknown; action: string }> {
  const table = templates(world);
  const request = fc.constantFrom(...actions).chain((action) => {
    const template = table[action] ?? fc.constant({});
    return fc
      .tuple(
        template.chain((payload) =>
          fc.oneof(
            { weight: 1, arbitrary: fc.constant(payload) },
            { weight: 12, arbitrary: mutate(payload) },
          ),
        ),
        ref,
      )
      .map(([payload, r]) => ({ value: [action, r, payload], action }));
  });
  const envelope = fc.oneof(
    fc.jsonValue({ maxDepth: 3 }).map((value) => ({ value, action: "(envelope)" })),
    fc
      .tuple(fc.constantFrom("chat.send", "chat.nonsense", ...EVIL_NAMES, "", "x".repeat(65)), ref, evilValue)
      .map(([action, r, payload]) => ({ value: [action, r, payload], action: "(envelope)" })),
    fc
      .tuple(fc.constantFrom("chat.join", "chat.fetch"), ref)
      .map(([action, r]) => ({ value: [action, r], action: "(envelope)" })),
    fc.constantFrom(...actions).map((action) => ({ value: [action, 1, {}, 4], action: "(envelope)" })),
    evilValue.map((ts) => ({ value: ["ping", ts], action: "ping" })),
    fc
      .integer({ min: 17, max: 6_000 })
      .map((depth) => ({ value: ["ping", deep(depth, 0, false)], action: "ping" })),
    fc
      .oneof(
        fc.record({ token: fc.oneof(fc.string(), evilValue) }),
        fc.record({ client_id: fc.oneof(fc.string(), evilValue) }),
        evilValue,
      )
      .map((payload) => ({ value: ["authenticate", payload], action: "authenticate" })),
  );
  return fc.oneof({ weight: 6, arbitrary: request }, { weight: 3, arbitrary: envelope });
}

const encodeJson = (value: unknown): string | undefined => {
  try {
    return JSON.stringify(value);
  } catch {
    return undefined; // too deep for JSON.stringify here: sent as hand-made text instead
  }
};

/** MessagePack by hand for what the encoder refuses (deeper than 100): the server must cope. */
const deepMsgpack = (depth: number): Uint8Array =>
  Buffer.concat([
    Buffer.from([0x92, 0xa4]),
    Buffer.from("ping"),
    Buffer.alloc(depth, 0x91),
    Buffer.from([0xc0]),
  ]);

export function fuzzFrames(world: FuzzWorld, actions: readonly string[]): fc.Arbitrary<FuzzFrame> {
  const limit = world.maxPayloadBytes;
  const structured = fc
    .tuple(frameValue(world, actions), fc.boolean())
    .map(([{ value, action }, binary]): FuzzFrame => {
      if (binary) {
        try {
          const data = encodeMsgpack(value);
          return { data, binary: true, action, oversize: data.length > limit };
        } catch {
          return { data: deepMsgpack(120), binary: true, action, oversize: false };
        }
      }
      const text = encodeJson(value) ?? `["ping", ${"[".repeat(5000)}${"]".repeat(5000)}]`;
      return { data: text, binary: false, action, oversize: Buffer.byteLength(text) > limit };
    });
  const raw = fc.oneof(
    fc
      .uint8Array({ maxLength: 200 })
      .map((data): FuzzFrame => ({ data, binary: true, action: "(bytes)", oversize: false })),
    fc
      .string({ maxLength: 200 })
      .map((data): FuzzFrame => ({ data, binary: false, action: "(text)", oversize: false })),
    fc.integer({ min: 17, max: 30_000 }).map(
      (depth): FuzzFrame => ({
        data: `${"[".repeat(depth)}${"]".repeat(depth)}`,
        binary: false,
        action: "(deep)",
        oversize: false,
      }),
    ),
    fc
      .integer({ min: 101, max: 60_000 })
      .map(
        (depth): FuzzFrame => ({ data: deepMsgpack(depth), binary: true, action: "(deep)", oversize: false }),
      ),
    // Around the size limit: just under is read; just over closes with 1009.
    fc.integer({ min: -64, max: 64 }).map((delta): FuzzFrame => {
      const size = limit + delta;
      const filler = "x".repeat(Math.max(0, size - 40));
      const text = JSON.stringify(["chat.typing", 1, { channel: filler }]).slice(0, size);
      const data = text.padEnd(size, " ");
      return { data, binary: false, action: "(limit)", oversize: Buffer.byteLength(data) > limit };
    }),
  );
  return fc.oneof({ weight: 20, arbitrary: structured }, { weight: 2, arbitrary: raw });
}

/** `count` frames from `seed`, generated in chunks so a million never sit in memory at once. */
export function* sampleFrames(
  arbitrary: fc.Arbitrary<FuzzFrame>,
  seed: number,
  count: number,
  chunk = 2_000,
): Generator<FuzzFrame> {
  for (let done = 0, round = 0; done < count; round++) {
    const n = Math.min(chunk, count - done);
    for (const frame of fc.sample(arbitrary, { seed: seed + round, numRuns: n })) yield frame;
    done += n;
  }
}
