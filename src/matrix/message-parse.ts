// m.room.message content -> protocol message content: text kinds, files and images (as URLs native
// clients can load), formatted HTML turned into plain text, reply fallbacks dropped.
import { convert } from "html-to-text";
import type { z } from "zod";
import type { MediaUrls } from "../domain/media-urls.ts";
import type { MessageContent } from "../protocol/events.ts";
import type { messageContentSchema } from "./event-schemas.ts";

type MatrixMessage = z.infer<typeof messageContentSchema>;

const TEXTUAL = { "m.text": "text", "m.emote": "emote", "m.notice": "notice" } as const;
const FILES = new Set(["m.image", "m.file", "m.video", "m.audio"]);

/** HTML from Matrix clients is never passed on: it becomes plain text here. */
export function htmlToPlain(html: string): string {
  const withoutReply = html
    .replace(/<mx-reply>[\s\S]*?<\/mx-reply>/g, "")
    // Mention pills: the name alone reads best; the mention itself travels in m.mentions.
    .replace(/<a\s[^>]*href="https:\/\/matrix\.to\/#\/[^"]*"[^>]*>([\s\S]*?)<\/a>/g, "$1");
  return convert(withoutReply, {
    wordwrap: false,
    selectors: [
      { selector: "a", options: { hideLinkHrefIfSameAsText: true, ignoreHref: false } },
      { selector: "img", format: "skip" },
    ],
  }).trim();
}

/** Older clients quote the replied-to message at the top of a reply's body ("> <@user> text"). */
const stripReplyFallback = (body: string) => body.replace(/^(> .*\n)+\n?/, "");

/**
 * An encrypted-style attachment as a URL native clients can load: Parley's media URL with the key,
 * iv and type, so it serves the file decrypted (whoever sees the event sees the key anyway).
 */
function attachmentUrl(
  file: { url: string; key?: { k: string } | undefined; iv?: string | undefined },
  mimeType: string,
  media: MediaUrls,
): string | undefined {
  const plain = media.toHttp(file.url);
  if (!plain || file.key === undefined || file.iv === undefined) return plain;
  const query = new URLSearchParams({ key: file.key.k, iv: file.iv, type: mimeType });
  return `${plain}?${query.toString()}`;
}

export function messageContentOf(
  content: MatrixMessage,
  media: MediaUrls,
  isReply: boolean,
): Exclude<MessageContent, { type: "deleted" }> | undefined {
  const html =
    content.format === "org.matrix.custom.html" && content.formatted_body
      ? content.formatted_body
      : undefined;
  const text =
    html !== undefined ? htmlToPlain(html) : isReply ? stripReplyFallback(content.body) : content.body;
  if (Object.hasOwn(TEXTUAL, content.msgtype)) {
    return { type: TEXTUAL[content.msgtype as keyof typeof TEXTUAL], body: text };
  }
  if (FILES.has(content.msgtype) && (content.url || content.file)) {
    const info = content.info;
    const mimeType = info?.mimetype ?? "application/octet-stream";
    const url = content.url
      ? media.toHttp(content.url)
      : content.file && attachmentUrl(content.file, mimeType, media);
    if (!url) return undefined;
    const name = content.filename ?? content.body;
    const thumbnailType = info?.thumbnail_info?.mimetype ?? "image/jpeg";
    const thumbnail = info?.thumbnail_url
      ? media.toHttp(info.thumbnail_url)
      : info?.thumbnail_file && attachmentUrl(info.thumbnail_file, thumbnailType, media);
    const file = {
      url,
      name,
      mimeType,
      ...(info?.size === undefined ? {} : { size: info.size }),
      ...(info?.w === undefined || info.h === undefined ? {} : { w: info.w, h: info.h }),
      ...(thumbnail === undefined ? {} : { thumbnail_url: thumbnail }),
    };
    // With a separate filename, `body` is a caption (Matrix media captions).
    const caption = content.filename && content.body !== content.filename ? content.body : undefined;
    return { type: "files", files: [file], ...(caption ? { body: caption } : {}) };
  }
  return undefined;
}
