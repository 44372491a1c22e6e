// Images read with sharp (libvips): the pixel size, and a thumbnail of a large one. Only the
// raster formats clients show are read (no SVG: it would be rendered here), with a pixel limit
// against decompression bombs; anything it cannot read is simply not an image to Parley.
import sharp from "sharp";
import type { ImageFacts, Images } from "../domain/ports/images.ts";

const READABLE = new Set(["image/jpeg", "image/png", "image/webp", "image/gif", "image/avif"]);
/** Element's own thumbnails are at most 800x600. */
const THUMBNAIL = { width: 800, height: 600 } as const;
/** 40 megapixels: a large photo; a bigger image is a file without a pixel size. */
const MAX_INPUT_PIXELS = 40_000_000;

export function createSharpImages(): Images {
  return {
    async describe(data, mimeType) {
      if (!READABLE.has(mimeType)) return undefined;
      try {
        const image = sharp(data, { limitInputPixels: MAX_INPUT_PIXELS, failOn: "error" });
        const meta = await image.metadata();
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
      }
    },
  };
}
