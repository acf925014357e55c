/**
 * Images for grounding models, prepared the way MDETR's pipeline prepares them (PIL, then
 * `datasets/transforms.py`): EXIF orientation applied, converted to RGB as PIL's
 * `Image.convert("RGB")` does (alpha dropped, no colour management, CMYK by PIL's own formula),
 * resized so the shorter side is 800 and the longer at most 1333, bilinear.
 */
import { readFile } from "node:fs/promises";
import fg from "fast-glob";
import sharp, { type Sharp } from "sharp";
import { decode as decodeBmp } from "bmp-ts";
import { cmykToRgb } from "../compat/pil.js";
import { roundHalfEven } from "../compat/python.js";

export const IMAGE_EXTENSIONS = ["jpg", "jpeg", "png", "webp", "bmp", "tif", "tiff"] as const;

/** MDETR's evaluation resize: the shorter side to 800, the longer at most 1333. */
export const SHORT_SIDE = 800;
export const MAX_SIZE = 1333;

/** How images are prepared, in words and numbers, for the header of the outputs. */
export const IMAGE_PREPARATION = { short_side: SHORT_SIDE, max_size: MAX_SIZE, resize: "bilinear", exif: "applied" } as const;

/** Image paths under `root`, relative to it, sorted so that runs are deterministic. */
export async function findImages(root: string, recursive: boolean): Promise<string[]> {
  const pattern = `${recursive ? "**/" : ""}*.{${IMAGE_EXTENSIONS.join(",")}}`;
  const found = await fg(pattern, { cwd: root, caseSensitiveMatch: false, onlyFiles: true, dot: false });
  return found.sort();
}

/**
 * `get_size_with_aspect_ratio` of MDETR's datasets/transforms.py: (height, width) after resizing.
 * Python's round() rounds half to even, so 2666x333 becomes 1328x166, not 1337x167.
 */
export function detrSize(width: number, height: number, size = SHORT_SIDE, maxSize = MAX_SIZE): { width: number; height: number } {
  let target = size;
  const shorter = Math.min(width, height);
  const longer = Math.max(width, height);
  if ((longer / shorter) * target > maxSize) target = roundHalfEven((maxSize * shorter) / longer);
  if ((width <= height && width === target) || (height <= width && height === target)) return { width, height };
  return width < height
    ? { width: target, height: Math.trunc((target * height) / width) }
    : { width: Math.trunc((target * width) / height), height: target };
}

export interface PreparedImage {
  /** Size after EXIF orientation, before resizing: what boxes are reported in. */
  width: number;
  height: number;
  /** The resized image, RGB, row-major, 3 bytes per pixel. */
  resized: { width: number; height: number; rgb: Uint8Array };
}

/** A BMP by its content ("BM"), as PIL decides, whatever the file is called. */
export function isBmp(bytes: Uint8Array): boolean {
  return bytes[0] === 0x42 && bytes[1] === 0x4d;
}

/** libvips has no BMP loader; bmp-ts decodes them. */
export function decodeBmpRgb(bytes: Buffer): { rgb: Uint8Array; width: number; height: number } {
  let bmp: ReturnType<typeof decodeBmp>;
  try {
    // Its default layout is A, B, G, R at every bit depth (toRGBA is ignored for palette images).
    bmp = decodeBmp(bytes);
  } catch (error) {
    throw new Error(`not a readable BMP (${error instanceof Error ? error.message.split("\n")[0] : String(error)})`);
  }
  const abgr = new Uint8Array(bmp.data.buffer, bmp.data.byteOffset, bmp.data.byteLength);
  const rgb = new Uint8Array(bmp.width * bmp.height * 3);
  for (let p = 0; p < bmp.width * bmp.height; p++) {
    rgb[3 * p] = abgr[4 * p + 3]!;
    rgb[3 * p + 1] = abgr[4 * p + 2]!;
    rgb[3 * p + 2] = abgr[4 * p + 1]!;
  }
  return { rgb, width: bmp.width, height: bmp.height };
}

/**
 * Throws (with sharp's or the BMP decoder's reason) when the file is not a readable image. `exif`
 * false decodes the stored pixels as they are, as MDETR's datasets do (`Image.open(path)
 * .convert("RGB")`, no `exif_transpose`): benchmark annotations are in that frame.
 */
export async function prepareImage(path: string, shortSide = SHORT_SIDE, maxSize = MAX_SIZE, exif = true): Promise<PreparedImage> {
  let source: Sharp;
  let width: number;
  let height: number;
  const fromRgb = (rgb: { rgb: Uint8Array; width: number; height: number }) => {
    ({ width, height } = rgb);
    return sharp(rgb.rgb, { raw: { width, height, channels: 3 } });
  };
  // sharp's rotate() without an angle applies the EXIF orientation.
  const orient = (image: Sharp) => (exif ? image.rotate() : image);
  const bytes = await readFile(path);
  if (isBmp(bytes)) {
    source = fromRgb(decodeBmpRgb(bytes));
  } else {
    source = sharp(bytes, { failOn: "error", ignoreIcc: true });
    const metadata = await source.metadata();
    if (metadata.space === "cmyk") {
      // PIL's formula, not colour management: take the raw CMYK (sharp's equals PIL's) and convert.
      const { data, info } = await orient(source).pipelineColourspace("cmyk").toColourspace("cmyk").raw().toBuffer({ resolveWithObject: true });
      source = fromRgb({ rgb: cmykToRgb(data), width: info.width, height: info.height });
    } else if (metadata.hasAlpha) {
      // Drop alpha before resizing: sharp would resize premultiplied and darken transparent pixels,
      // while PIL's convert("RGB") keeps the colour under any alpha.
      const { data, info } = await orient(source).removeAlpha().toColourspace("srgb").raw().toBuffer({ resolveWithObject: true });
      source = fromRgb({ rgb: data, width: info.width, height: info.height });
    } else {
      const swapped = exif && (metadata.orientation ?? 1) >= 5;
      width = swapped ? metadata.height! : metadata.width!;
      height = swapped ? metadata.width! : metadata.height!;
      source = orient(source).removeAlpha().toColourspace("srgb");
    }
  }
  const size = detrSize(width!, height!, shortSide, maxSize);
  const { data, info } = await source
    .resize(size.width, size.height, { fit: "fill", kernel: "linear", fastShrinkOnLoad: false })
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 3 || info.width !== size.width || info.height !== size.height) {
    throw new Error(`unexpected decode result ${info.width}x${info.height}x${info.channels}`);
  }
  return { width: width!, height: height!, resized: { width: size.width, height: size.height, rgb: data } };
}
