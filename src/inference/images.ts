/**
 * Images for grounding models, prepared the way MDETR's pipeline prepares them (PIL, then
 * `datasets/transforms.py`): EXIF orientation applied, converted to RGB as PIL's
 * `Image.convert("RGB")` does (alpha dropped, no colour management, CMYK by PIL's own formula),
 * resized so the shorter side is 800 and the longer at most 1333 with Pillow's bilinear resampler
 * (what torchvision's `T.Resize` runs on a PIL image), normalised with ImageNet's mean and std.
 * sharp (or bmp-ts) only decodes; the resize and the normalisation are ours (compat/pil.ts): the
 * resampler's last pass writes each byte's normalised float, which are then copied into the planes.
 */
import { readFile } from "node:fs/promises";
import fg from "fast-glob";
import sharp from "sharp";
import { decode as decodeBmp } from "bmp-ts";
import { cmykToRgb, type PillowResampler, type RgbImage } from "../compat/pil.js";
import { roundHalfEven } from "../compat/python.js";

export const IMAGE_EXTENSIONS = ["jpg", "jpeg", "png", "webp", "bmp", "tif", "tiff"] as const;

/** MDETR's evaluation resize: the shorter side to 800, the longer at most 1333. */
export const SHORT_SIDE = 800;
export const MAX_SIZE = 1333;

/** How images are prepared, in words and numbers, for the header of the outputs. */
export const IMAGE_PREPARATION = { short_side: SHORT_SIDE, max_size: MAX_SIZE, resize: "Pillow bilinear", exif: "applied" } as const;

/** MDETR's `T.Normalize` (datasets/transforms.py): ImageNet's mean and std, after scaling to 0..1. */
export const MEAN: readonly number[] = [0.485, 0.456, 0.406];
export const STD: readonly number[] = [0.229, 0.224, 0.225];
/** (v / 255 - mean) / std for each byte value and channel, computed once. */
const NORMALISED = MEAN.map((mean, c) => Float32Array.from({ length: 256 }, (_, v) => (v / 255 - mean) / STD[c]!)) as [Float32Array, Float32Array, Float32Array];

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
  /**
   * The resized image as the model takes it: normalised float32 planes (red, green, blue), each
   * `height` rows of `width`: one image of pixel_values. From an image thread they are in shared
   * memory, which onnxruntime does not take: batchFeeds copies them.
   */
  resized: { width: number; height: number; planes: Float32Array };
}

/**
 * Whether a file can hold CMYK pixels: a JPEG of 4 components (CMYK or YCCK, by its first SOF
 * marker), or anything but a JPEG of other components, a PNG, a WebP or a GIF (which cannot).
 */
export function mayBeCmyk(bytes: Uint8Array): boolean {
  const starts = (...magic: number[]) => magic.every((b, i) => bytes[i] === b);
  if (starts(0x89, 0x50, 0x4e, 0x47) || starts(0x47, 0x49, 0x46) || (starts(0x52, 0x49, 0x46, 0x46) && bytes[8] === 0x57 && bytes[9] === 0x45 && bytes[10] === 0x42 && bytes[11] === 0x50)) return false;
  if (!starts(0xff, 0xd8)) return true;
  // JPEG markers (ITU T.81 B.1.1): FF, a code, and (but for RSTn, SOI, EOI, TEM) a 2-byte length.
  for (let i = 2; i + 9 < bytes.length; ) {
    if (bytes[i] !== 0xff) return true;
    const code = bytes[i + 1]!;
    if (code === 0xff) i++;
    else if (code === 0x01 || (code >= 0xd0 && code <= 0xd9)) i += 2;
    // SOF0-15 but DHT (C4), JPG (C8), DAC (CC): length, precision, height, width, components.
    else if (code >= 0xc0 && code <= 0xcf && code !== 0xc4 && code !== 0xc8 && code !== 0xcc) return bytes[i + 9] === 4;
    else i += 2 + ((bytes[i + 2]! << 8) | bytes[i + 3]!);
  }
  return true;
}

/** A BMP by its content ("BM"), as PIL decides, whatever the file is called. */
export function isBmp(bytes: Uint8Array): boolean {
  return bytes[0] === 0x42 && bytes[1] === 0x4d;
}

/** libvips has no BMP loader; bmp-ts decodes them. */
export function decodeBmpRgb(bytes: Buffer): RgbImage {
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
 * The pixels of a file as PIL's `convert("RGB")` gives them, at their stored size (after EXIF
 * orientation when `exif`). Throws (with sharp's or the BMP decoder's reason) when the file is not
 * a readable image. `exif` false decodes the stored pixels as they are, as MDETR's datasets do
 * (`Image.open(path).convert("RGB")`, no `exif_transpose`): benchmark annotations are in that frame.
 */
export async function decodeImage(path: string, exif = true): Promise<RgbImage> {
  const bytes = await readFile(path);
  if (isBmp(bytes)) return decodeBmpRgb(bytes);
  const source = sharp(bytes, { failOn: "error", ignoreIcc: true });
  // sharp's rotate() without an angle applies the EXIF orientation.
  const oriented = exif ? source.rotate() : source;
  // Reading the header apart costs 0.3 ms a JPEG: asked only of a file that can hold CMYK.
  if (mayBeCmyk(bytes) && (await source.metadata()).space === "cmyk") {
    // PIL's formula, not colour management: take the raw CMYK (sharp's equals PIL's) and convert.
    const { data, info } = await oriented.pipelineColourspace("cmyk").toColourspace("cmyk").raw().toBuffer({ resolveWithObject: true });
    return { width: info.width, height: info.height, rgb: cmykToRgb(data) };
  }
  // Alpha dropped, not composited: PIL's convert("RGB") keeps the colour under any alpha.
  const { data, info } = await oriented.removeAlpha().toColourspace("srgb").raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`unexpected decode result ${info.width}x${info.height}x${info.channels}`);
  return { width: info.width, height: info.height, rgb: data };
}

/**
 * A decoded picture resized to DETR's size with Pillow's bilinear resampler (`resampler`, one a
 * thread: it keeps its memory from picture to picture) and normalised by its last pass. The
 * planes go into `reuse` when it is big enough (a buffer a finished picture no longer needs),
 * else into a new buffer: a fresh 10 MB buffer costs its page faults again (about 1 ms a
 * 1066x800 picture).
 */
export function prepareDecoded(image: RgbImage, resampler: PillowResampler, reuse?: ArrayBufferLike, allocate: (bytes: number) => ArrayBufferLike = (bytes) => new ArrayBuffer(bytes)): PreparedImage {
  const { width, height } = detrSize(image.width, image.height);
  const length = 3 * width * height;
  const planes = new Float32Array(reuse && reuse.byteLength >= 4 * length ? reuse : allocate(4 * length), 0, length);
  resampler.resizeInto(image, width, height, { data: planes, offset: 0, pixelStep: 1, rowStep: width, channelStep: width * height, tables: NORMALISED });
  return { width: image.width, height: image.height, resized: { width, height, planes } };
}

/**
 * A file prepared into `spare` when it is big enough, else into a new buffer from `allocate`;
 * `unused` is the spare when it was not used (for the next picture).
 */
export async function prepareFile(path: string, exif: boolean, resampler: PillowResampler, spare: ArrayBufferLike | undefined, allocate?: (bytes: number) => ArrayBufferLike): Promise<{ image: PreparedImage; unused: ArrayBufferLike | undefined }> {
  const image = prepareDecoded(await decodeImage(path, exif), resampler, spare, allocate);
  return { image, unused: image.resized.planes.buffer === spare ? undefined : spare };
}

