// Media: native users upload files into the homeserver's content repository through Parley, and
// anyone loads homeserver media through Parley's media URLs. Each channel's gallery of posted
// files and links (chat.media) is read from the log, so edits and deletes are reflected at once.
import { ProtocolError } from "../protocol/errors.ts";
import type { FileRef, MediaPage, MessageContent } from "../protocol/events.ts";
import type { ChannelName, UserId } from "../protocol/ids.ts";
import type { Channels } from "./channels.ts";
import { toChatEvent } from "./event-log.ts";
import type { Hearing } from "./hearing.ts";
import type { MediaUrls } from "./media-urls.ts";
import type { Images } from "./ports/images.ts";
import { type DownloadedMedia, type MatrixPort, UpstreamRejectedError } from "./ports/matrix.ts";
import { type SharedRateLimiter, takeForActor, type UserAndAddressRule } from "./ports/rate-limit.ts";
import type { MediaInfoRow, Store } from "./ports/store.ts";
import type { Users } from "./users.ts";

export interface MediaLimits {
  readonly maxUploadBytes: number;
  readonly allowedTypes: readonly string[];
}

export type MediaItem = MediaPage["items"][number];

export interface Media {
  readonly limits: MediaLimits;
  isAllowedType(mimeType: string): boolean;
  /** Before the body is read: the type is allowed and the user's and address's upload budgets have room. */
  admitUpload(
    uploader: { readonly userId: UserId; readonly address: string },
    mimeType: string,
  ): Promise<void>;
  upload(
    userId: UserId,
    data: Buffer,
    mimeType: string,
    filename: string,
  ): Promise<FileRef & { mxc: string; size: number }>;
  /**
   * The content with what Parley knows of each of its files (size, pixel size, thumbnail) added;
   * what a client claimed about them is not kept.
   */
  withFileInfo<C extends MessageContent>(content: C): Promise<C>;
  /** Only the homeserver's own media: Parley is no proxy for other servers' files. */
  download(server: string, mediaId: string): Promise<DownloadedMedia>;
  /**
   * The caller's right to read the channel is checked before (handlers/history.ts); `listener`
   * gets only what they hear (held media only for moderators and its sender, audiences, ignores).
   */
  gallery(
    channel: ChannelName,
    page: { before_id?: number | undefined; count: number },
    listener: UserId,
  ): Promise<MediaPage>;
}

const LINK = /https?:\/\/[^\s<>"'`]+/g;
const linksIn = (text: string | undefined) =>
  (text?.match(LINK) ?? []).map((url) => url.replace(/[.,;:!?)\]]+$/, ""));

function itemsOf(content: MessageContent): Array<Pick<MediaItem, "kind" | "url" | "name" | "mimeType">> {
  if (content.type === "deleted") return [];
  const files =
    content.type === "files"
      ? content.files.map((f) => ({ kind: "file" as const, url: f.url, name: f.name, mimeType: f.mimeType }))
      : [];
  const fileUrls = new Set(files.map((f) => f.url));
  const links = [...new Set(linksIn(content.body))].filter((url) => !fileUrls.has(url));
  return [...files, ...links.map((url) => ({ kind: "link" as const, url }))];
}

/** A file as clients get it, with what Parley knows of it. */
function withInfo(file: FileRef, info: MediaInfoRow, urls: MediaUrls): FileRef {
  const thumbnail = info.thumbnailMxc === null ? undefined : urls.toHttp(info.thumbnailMxc);
  return {
    ...file,
    size: info.size,
    ...(info.width !== null && info.height !== null ? { w: info.width, h: info.height } : {}),
    ...(thumbnail ? { thumbnail_url: thumbnail } : {}),
  };
}

export interface MediaDeps {
  readonly store: Store;
  readonly matrix: MatrixPort;
  readonly channels: Channels;
  readonly users: Users;
  readonly urls: MediaUrls;
  readonly limits: MediaLimits;
  /** The homeserver's server name: the only one whose media Parley serves. */
  readonly serverName: string;
  readonly uploadRate: { readonly limiter: SharedRateLimiter; readonly rules: UserAndAddressRule };
  /** Pixel sizes and thumbnails of uploaded images. */
  readonly images: Images;
  /** Who hears which message: the gallery shows a listener only those. */
  readonly hearing: Pick<Hearing, "hears">;
}

export function createMedia(deps: MediaDeps): Media {
  const { store, matrix, channels, users, urls, limits, serverName, uploadRate, images, hearing } = deps;
  const isAllowedType = (mimeType: string) =>
    limits.allowedTypes.some((allowed) =>
      allowed.endsWith("/*") ? mimeType.startsWith(allowed.slice(0, -1)) : mimeType === allowed,
    );
  return {
    limits,
    isAllowedType,
    async admitUpload(uploader, mimeType) {
      if (!isAllowedType(mimeType))
        throw new ProtocolError("media.unsupported_type", `${mimeType} is not allowed here.`);
      await takeForActor(
        uploadRate.limiter,
        "uploads",
        uploader,
        uploadRate.rules,
        "You are uploading too fast.",
      );
    },
    async upload(userId, data, mimeType, filename) {
      if (data.length > limits.maxUploadBytes) throw new ProtocolError("media.too_large");
      if (!isAllowedType(mimeType))
        throw new ProtocolError("media.unsupported_type", `${mimeType} is not allowed here.`);
      const user = await users.native(userId);
      if (!user) throw new Error(`upload by unknown native user ${userId}`);
      await users.preparePuppet(user.userId);
      const mxc = await matrix.uploadMedia(userId, data, mimeType, filename);
      const url = urls.toHttp(mxc);
      if (!url) throw new Error(`homeserver returned an unusable content URI ${mxc}`);
      const facts = await images.describe(data, mimeType);
      const thumbnailMxc = facts?.thumbnail
        ? await matrix.uploadMedia(
            userId,
            facts.thumbnail.data,
            facts.thumbnail.mimeType,
            `thumbnail-${filename}`,
          )
        : null;
      const info = {
        mxc,
        size: data.length,
        width: facts?.width ?? null,
        height: facts?.height ?? null,
        thumbnailMxc,
      };
      await store.setMediaInfo(info, Date.now());
      return { ...withInfo({ url, name: filename, mimeType }, info, urls), mxc, size: data.length };
    },
    async withFileInfo(content) {
      if (content.type !== "files") return content;
      const mxcs = content.files.map((file) => urls.toMxc(file.url)).filter((mxc) => mxc !== undefined);
      const known = await store.mediaInfo(mxcs);
      const files = content.files.map((file) => {
        const { url, name, mimeType } = file;
        const mxc = urls.toMxc(url);
        const info = mxc === undefined ? undefined : known.get(mxc);
        return info ? withInfo({ url, name, mimeType }, info, urls) : { url, name, mimeType };
      });
      return { ...content, files };
    },
    async download(server, mediaId) {
      if (server !== serverName)
        throw new ProtocolError("media.not_found", "Only this server's media is served.");
      try {
        const found = await matrix.downloadMedia(`mxc://${server}/${mediaId}`);
        if (found) return found;
      } catch (error) {
        // The homeserver refusing (403, 400) looks the same as a missing file to the client.
        if (!(error instanceof UpstreamRejectedError)) throw error;
      }
      throw new ProtocolError("media.not_found");
    },
    async gallery(name, { before_id: beforeId, count }, listener) {
      const channel = await channels.find(name);
      if (!channel) throw new ProtocolError("chat.unknown", `No channel ${name}.`);
      const events = await store.postsWithMedia(channel.id, beforeId, count);
      const heard = [];
      for (const event of events)
        if (await hearing.hears(channel, listener, toChatEvent(channel, event))) heard.push(event);
      const items = heard.flatMap((event) =>
        itemsOf(event.content as MessageContent).map((item) => ({
          event_id: event.seq,
          sender: event.sender,
          ts: event.ts,
          ...item,
          ...(event.nsfw ? { nsfw: true as const } : {}),
          ...(event.pendingReview ? { pending_review: true as const } : {}),
        })),
      );
      const last = events.at(-1);
      return { items, next_before_id: events.length === count && last ? last.seq : null };
    },
  };
}
