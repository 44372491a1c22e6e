// Images read with sharp (libvips): the pixel size, and a thumbnail of a large one. Only the
// raster formats clients show are read (no SVG: it would be rendered here), with a pixel limit
// against decompression bombs; anything it cannot read is simply not an image to Parley.
import sharp from "sharp";
import type { ImageFacts, Images } from "../domain/ports/images.ts";

const READABLE = new Set(["image/jpeg", "image/png", "image/webp", "image/gif", "image/avif"]);
/** What the bytes must turn out to be (sharp reads the format from them, not from the type). */
const RASTER_FORMATS = new Set(["jpeg", "png", "webp", "gif", "heif"]);
/** Images decoded at once: each can take hundreds of MB, on the thread pool file I/O shares. */
const AT_ONCE = 2;
/** Element's own thumbnails are at most 800x600. */
const THUMBNAIL = { width: 800, height: 600 } as const;
/** 40 megapixels: a large photo; a bigger image is a file without a pixel size. */
const MAX_INPUT_PIXELS = 40_000_000;

export function createSharpImages(): Images {
  // libvips keeps no cache of its own for us: memory goes back once an image is done.
  sharp.cache(false);
  let running = 0;
  const waiting: Array<() => void> = [];
  const slot = async () => {
    if (running >= AT_ONCE) await new Promise<void>((resolve) => waiting.push(resolve));
    else running += 1;
    return () => {
      const next = waiting.shift();
      if (next) next();
      else running -= 1;
    };
  };
  return {
    async describe(data, mimeType) {
      if (!READABLE.has(mimeType)) return undefined;
      const release = await slot();
      try {
        const image = sharp(data, { limitInputPixels: MAX_INPUT_PIXELS, failOn: "error" });
        const meta = await image.metadata();
        // An SVG or a TIFF sent as image/png is not rendered here.
        if (!meta.format || !RASTER_FORMATS.has(meta.format)) return undefined;
        // EXIF orientations 5-8 turn the picture a quarter: its shown size swaps.
        const turned = (meta.orientation ?? 1) >= 5;
        const width = turned ? meta.height : meta.width;
        const height = turned ? meta.width : meta.height;
        if (!width || !height) return undefined;
        const facts: ImageFacts = { width, height };
        if (width <= THUMBNAIL.width && height <= THUMBNAIL.height) return facts;
        const opaque = !meta.hasAlpha;
        const resized = sharp(data, { limitInputPixels: MAX_INPUT_PIXELS, failOn: "error" })
          .rotate()
          .resize({ ...THUMBNAIL, fit: "inside", withoutEnlargement: true });
        const thumbnail = opaque
          ? { data: await resized.jpeg({ quality: 80, mozjpeg: true }).toBuffer(), mimeType: "image/jpeg" }
          : { data: await resized.png({ compressionLevel: 9 }).toBuffer(), mimeType: "image/png" };
        return { ...facts, thumbnail };
      } catch {
        return undefined;
      } finally {
        release();
      }
    },
  };
}
