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
    const thumbnail = only.thumbnail_url === undefined ? undefined : media.toMxc(only.thumbnail_url);
    return {
      msgtype: fileMsgtype(only.mimeType),
      body: content.body ?? only.name,
      filename: only.name,
      url: mxc,
      // What clients draw placeholders and previews from.
      info: {
        mimetype: only.mimeType,
        ...(only.size === undefined ? {} : { size: only.size }),
        ...(only.w === undefined || only.h === undefined ? {} : { w: only.w, h: only.h }),
        ...(thumbnail === undefined ? {} : { thumbnail_url: thumbnail }),
      },
    };
  }
  const lines = content.files.map((file: FileRef) => `${file.name}: ${file.url}`);
  return { msgtype: "m.text", body: [content.body, ...lines].filter(Boolean).join("\n") };
}

const escapeHtml = (text: string): string =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] ?? c,
  );

/**
 * The body as HTML with each mentioned user id as a pill (a matrix.to link, which clients draw
 * with the member's current name); undefined when nobody is mentioned.
 */
export function formattedWithPills(body: string, mentions: readonly string[]): string | undefined {
  if (mentions.length === 0) return undefined;
  const ids = [...mentions].sort((a, b) => b.length - a.length);
  const pattern = new RegExp(ids.map((id) => id.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|"), "g");
  let html = "";
  let last = 0;
  for (const match of body.matchAll(pattern)) {
    html += escapeHtml(body.slice(last, match.index));
    html += `<a href="https://matrix.to/#/${encodeURIComponent(match[0])}">${escapeHtml(match[0])}</a>`;
    last = match.index + match[0].length;
  }
  html += escapeHtml(body.slice(last));
  return html.replace(/\n/g, "<br>");
}

export function buildMessageContent(message: OutgoingMessage, media: MediaUrls): Content {
  const content: Content = baseContent(message, media);
  // Always present, empty when nobody is mentioned: clients then skip keyword highlighting.
  content["m.mentions"] = message.mentions.length > 0 ? { user_ids: [...message.mentions] } : {};
  const html =
    typeof content.body === "string" && content.msgtype !== undefined && message.content.type !== "files"
      ? formattedWithPills(content.body, message.mentions)
      : undefined;
  if (html !== undefined) {
    content.format = "org.matrix.custom.html";
    content.formatted_body = html;
  }
  if (message.replaces !== undefined) {
    // An edit: clients show m.new_content; the outer body is the fallback for those that cannot.
    // Its own m.mentions is empty: an edit must not notify again those the original notified.
    return {
      msgtype: content.msgtype,
      body: `* ${String(content.body)}`,
      ...(html !== undefined ? { format: "org.matrix.custom.html", formatted_body: `* ${html}` } : {}),
      "m.mentions": {},
      "m.new_content": content,
      "m.relates_to": { rel_type: "m.replace", event_id: message.replaces },
    };
  }
  if (message.replyTo !== undefined)
    content["m.relates_to"] = { "m.in_reply_to": { event_id: message.replyTo } };
  return content;
}
