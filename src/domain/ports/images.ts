// Reading images: their pixel size, and a smaller copy for a thumbnail. An adapter does the
// decoding (src/images/sharp.ts); the domain only asks.
export interface ImageFacts {
  readonly width: number;
  readonly height: number;
  /** A smaller copy, when the image is larger than a thumbnail. */
  readonly thumbnail?: { readonly data: Buffer; readonly mimeType: string } | undefined;
}

export interface Images {
  /** Undefined for what is not an image it reads (the file is still a file). */
  describe(data: Buffer, mimeType: string): Promise<ImageFacts | undefined>;
}
