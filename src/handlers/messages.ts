// chat.send (with slash commands), chat.react, chat.typing.
import { parseSlash, type SlashCommand } from "../domain/moderation/slash.ts";
import { ProtocolError } from "../protocol/errors.ts";
import type { ChannelName, UserId } from "../protocol/ids.ts";
import { reactPayload, sendPayload, typingPayload } from "../protocol/schemas.ts";
import { action, type HandlerContext } from "./context.ts";

async function runCommand(
  { user, services }: HandlerContext,
  channel: ChannelName,
  command: SlashCommand,
  options: {
    txn_id?: string | undefined;
    reply_to?: number | undefined;
    to?: readonly UserId[] | undefined;
  },
) {
  // Only /me posts something: the other commands act on the channel, for everyone to see.
  if (options.to !== undefined && command.name !== "me") {
    throw new ProtocolError("protocol.invalid_payload", "Slash commands take no recipients.", {
      fields: ["to"],
    });
  }
  const moderation = services.moderation;
  switch (command.name) {
    case "me":
      return {
        event: await services.messages.send(user, {
          channel,
          event_type: "channel.message",
          content: { type: "emote", body: command.text },
          ...options,
        }),
      };
    case "kick":
    case "ban":
      await moderation.act(user, channel, command.name, command.user, command.reason);
      return { command: command.name };
    case "unban":
      await moderation.act(user, channel, "unban", command.user);
      return { command: command.name };
    case "timeout":
      return {
        command: command.name,
        ...(await moderation.timeout(user, channel, command.user, command.seconds, command.reason)),
      };
    case "untimeout":
      await moderation.untimeout(user, channel, command.user);
      return { command: command.name };
    case "mod":
    case "unmod":
      await moderation.setRole(user, channel, command.user, command.name === "mod" ? "moderator" : "user");
      return { command: command.name };
    case "slow":
      return {
        command: command.name,
        settings: await services.settings.update(user, channel, { slow_mode: command.seconds }),
      };
    case "rules":
      return {
        command: command.name,
        settings: await services.settings.update(user, channel, { rules: command.text || null }),
      };
  }
}

export const messageActions = {
  "chat.send": action(
    sendPayload,
    async (ctx, payload) => {
      const { content } = payload;
      // Only a new text message can be a command: an edit that reads "/ban ..." is just an edit.
      const isNewText =
        payload.event_type === "channel.message" && payload.replaces === undefined && content.type === "text";
      if (isNewText && typeof content.body === "string" && content.body.startsWith("/")) {
        const command = parseSlash(content.body, ctx.services.naming);
        if (command)
          return runCommand(ctx, payload.channel, command, {
            txn_id: payload.txn_id,
            reply_to: payload.reply_to,
            to: payload.to,
          });
      }
      return { event: await ctx.services.messages.send(ctx.user, payload) };
    },
    "messages",
  ),

  "chat.react": action(
    reactPayload,
    async ({ user, services }, payload) => {
      await services.reactions.react(user, payload);
      return {};
    },
    "messages",
  ),

  "chat.typing": action(typingPayload, async ({ user, services }, { channel, typing }) => {
    await services.typing.setNative(user, channel, typing);
    return {};
  }),
};
