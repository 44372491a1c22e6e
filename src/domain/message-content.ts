// What a native client may send as a message, checked before anything reaches Matrix.
import { ProtocolError } from "../protocol/errors.ts";
import type { FileRef, MessageContent, TextualType } from "../protocol/events.ts";
import { asUserId, type UserId } from "../protocol/ids.ts";
import { MAX_BODY_LENGTH } from "../protocol/schemas.ts";

export const TEXTUAL_TYPES: readonly TextualType[] = ["text", "emote", "notice"];
export const MAX_FILES = 10;

const isTextual = (type: string): type is TextualType => (TEXTUAL_TYPES as readonly string[]).includes(type);

const invalid = (field: string, message: string) =>
  new ProtocolError("protocol.invalid_payload", message, { fields: [field] });

function checkBody(body: unknown, required: boolean): string | undefined {
  if (body === undefined && !required) return undefined;
  if (typeof body !== "string") throw invalid("content.body", "content.body must be a string.");
  if (body.length > MAX_BODY_LENGTH) {
    throw invalid("content.body", `content.body is longer than ${MAX_BODY_LENGTH} characters.`);
  }
  return body;
}

function checkFiles(files: unknown): FileRef[] {
  if (!Array.isArray(files) || files.length === 0 || files.length > MAX_FILES) {
    throw invalid("content.files", `content.files must list 1-${MAX_FILES} files.`);
  }
  return files.map((file, i) => {
    const f = file as Partial<Record<keyof FileRef, unknown>> | null;
    const ok =
      f !== null &&
      typeof f === "object" &&
      typeof f.url === "string" &&
      /^(https?|mxc):\/\/\S+$/.test(f.url) &&
      typeof f.name === "string" &&
      f.name.length > 0 &&
      f.name.length <= 255 &&
      typeof f.mimeType === "string" &&
      /^[\w.+-]+\/[\w.+-]+$/.test(f.mimeType);
    if (!ok)
      throw invalid(
        `content.files.${i}`,
        "each file needs a url (http, https or mxc), a name and a mimeType.",
      );
    return { url: f.url as string, name: f.name as string, mimeType: f.mimeType as string };
  });
}

/** Validates the content of a `channel.message`; `deleted` is only valid together with `replaces`. */
export function parseMessageContent(content: {
  readonly type: string;
  readonly [key: string]: unknown;
}): MessageContent {
  const { type } = content;
  if (isTextual(type)) {
    const body = checkBody(content.body, true) as string;
    if (body.trim() === "") throw new ProtocolError("chat.empty");
    return { type, body };
  }
  if (type === "files") {
    const body = checkBody(content.body, false);
    return { type, files: checkFiles(content.files), ...(body?.trim() ? { body } : {}) };
  }
  if (type === "deleted") return { type };
  throw new ProtocolError("chat.unsupported_content_type", `Content type ${type} is not supported.`);
}

const MENTION = /@[a-z0-9._=/+-]+:[A-Za-z0-9.-]+(?::\d+)?/g;

/** User ids mentioned in a text: `@localpart:server` written out, as Matrix clients do. */
export function mentionsIn(content: MessageContent): UserId[] {
  const text = content.type === "deleted" ? "" : (content.body ?? "");
  return [...new Set(text.match(MENTION) ?? [])].map(asUserId);
}

/**
 * Whether a logged message is hidden from a user: to other recipients, or held for media review,
 * unless they sent it or moderate the channel. Such a message must answer as a missing one.
 */
export const hiddenFrom = (
  event: { readonly sender: string | null; readonly pendingReview?: boolean; readonly content: unknown },
  userId: string,
  moderator: boolean,
): boolean =>
  event.sender !== userId &&
  !moderator &&
  (event.pendingReview === true || recipientsOf(event.content)?.includes(userId as UserId) === false);

/** The chosen recipients (`to`) a stored message's content carries, if it has them. */
export const recipientsOf = (content: unknown): UserId[] | undefined => {
  const to = (content as { to?: unknown } | null)?.to;
  return Array.isArray(to) ? (to as UserId[]) : undefined;
};
