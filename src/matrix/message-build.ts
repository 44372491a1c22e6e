// A native message -> m.room.message content. One message is one Matrix event: a single file on
// the homeserver's media becomes m.image/m.video/m.audio/m.file; several files, or files hosted
// elsewhere, become a text message listing their links.

import type { MediaUrls } from "../domain/media-urls.ts";
import type { OutgoingMessage } from "../domain/ports/matrix.ts";
import type { FileRef } from "../protocol/events.ts";

type Content = Record<string, unknown>;

const TEXTUAL = { text: "m.text", emote: "m.emote", notice: "m.notice" } as const;

function fileMsgtype(mimeType: string): string {
  if (mimeType.startsWith("image/")) return "m.image";
  if (mimeType.startsWith("video/")) return "m.video";
  if (mimeType.startsWith("audio/")) return "m.audio";
  return "m.file";
}

function baseContent(message: OutgoingMessage, media: MediaUrls): Content {
  const content = message.content;
  if (content.type !== "files") return { msgtype: TEXTUAL[content.type], body: content.body };
  const [only] = content.files;
  const mxc = content.files.length === 1 && only ? media.toMxc(only.url) : undefined;
  if (only && mxc) {
    return {
      msgtype: fileMsgtype(only.mimeType),
      body: content.body ?? only.name,
      filename: only.name,
      url: mxc,
      info: { mimetype: only.mimeType },
    };
  }
  const lines = content.files.map((file: FileRef) => `${file.name}: ${file.url}`);
  return { msgtype: "m.text", body: [content.body, ...lines].filter(Boolean).join("\n") };
}

export function buildMessageContent(message: OutgoingMessage, media: MediaUrls): Content {
  const content: Content = baseContent(message, media);
  if (message.mentions.length > 0) content["m.mentions"] = { user_ids: [...message.mentions] };
  if (message.replaces !== undefined) {
    // An edit: clients show m.new_content; the outer body is the fallback for those that cannot.
    return {
      msgtype: content.msgtype,
      body: `* ${String(content.body)}`,
      "m.new_content": content,
      "m.relates_to": { rel_type: "m.replace", event_id: message.replaces },
    };
  }
  if (message.replyTo !== undefined)
    content["m.relates_to"] = { "m.in_reply_to": { event_id: message.replyTo } };
  return content;
}
