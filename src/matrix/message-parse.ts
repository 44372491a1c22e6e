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
  if (FILES.has(content.msgtype) && content.url) {
    const url = media.toHttp(content.url);
    if (!url) return undefined;
    const name = content.filename ?? content.body;
    const mimeType = content.info?.mimetype ?? "application/octet-stream";
    // With a separate filename, `body` is a caption (Matrix media captions).
    const caption = content.filename && content.body !== content.filename ? content.body : undefined;
    return { type: "files", files: [{ url, name, mimeType }], ...(caption ? { body: caption } : {}) };
  }
  return undefined;
}
