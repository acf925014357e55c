/**
 * PIL (Pillow) behaviours that decide the pixels MDETR's models see: `Image.convert("RGB")` of
 * CMYK, and `Image.resize(size, Image.BILINEAR)`, which torchvision's `T.Resize` calls on a PIL
 * image (MDETR's datasets/transforms.py `resize`).
 */
import { compileWasm, ensureWasmMemory, instantiateWasm, type WasmMemory } from "../core/wasm.js";

/** PIL's MULDIV255 (ImagingUtils.h): (a * b + 128) / 255, rounded as its integer arithmetic does. */
function mulDiv255(a: number, b: number): number {
  const t = a * b + 128;
  return ((t >> 8) + t) >> 8;
}

/** PIL's cmyk2rgb (Convert.c): each channel = (255 - K) - (C * (255 - K)) / 255. */
export function cmykToRgb(cmyk: Uint8Array): Uint8Array {
  const pixels = cmyk.length / 4;
  const rgb = new Uint8Array(pixels * 3);
  for (let p = 0; p < pixels; p++) {
    const nk = 255 - cmyk[4 * p + 3]!;
    for (let c = 0; c < 3; c++) rgb[3 * p + c] = Math.max(0, Math.min(255, nk - mulDiv255(cmyk[4 * p + c]!, nk)));
  }
  return rgb;
}

/** An RGB picture: 3 bytes per pixel, row-major (PIL's "RGB" mode without its pad byte). */
export interface RgbImage {
  width: number;
  height: number;
  rgb: Uint8Array;
}

/**
 * Where a resize writes: output byte v of channel c at (x, y) becomes `tables[c][v]` at
 * `data[offset + c * channelStep + y * rowStep + x * pixelStep]`. Planes of normalised floats
 * (the model's pixel_values) or, with tables v -> v, the bytes themselves.
 */
export interface ResizeTarget {
  data: Float32Array;
  offset: number;
  pixelStep: number;
  rowStep: number;
  channelStep: number;
  tables: readonly [Float32Array, Float32Array, Float32Array];
}

/**
 * One axis of Pillow's resampler in its 8-bit fixed point: output i is the sum over t < taps of
 * `weights[i * taps + t] * input[first[i] + t]`, plus a half, shifted right by PRECISION_BITS.
 */
export interface ResampleAxis {
  first: Int32Array;
  taps: number;
  weights: Int32Array;
}

/** Resample.c: `PRECISION_BITS (32 - 8 - 2)`, the fixed point of 8-bit images. */
const PRECISION_BITS = 22;
const ONE = 1 << PRECISION_BITS;

/** Resample.c `bilinear_filter`: a triangle of support 1. */
function triangle(x: number): number {
  const a = x < 0 ? -x : x;
  return a < 1 ? 1 - a : 0;
}

/**
 * Resample.c `precompute_coeffs` with the bilinear filter, then `normalize_coeffs_8bpc`, for a box
 * covering the whole axis. Per output pixel: its centre in input coordinates, a window of
 * `support * max(1, in/out)` either side rounded as C's `(int)(x + 0.5)`, triangle weights
 * divided by their sum, then `(int)(0.5 + w * 2^22)`. Our own layout after that: the weights
 * that came out zero are dropped at both ends and every window is widened to one tap count
 * (zero weights, the window kept inside the axis), so that the loops have a fixed shape. Adding
 * zero terms changes no integer sum: the outputs are Pillow's, bit for bit.
 */
export function bilinearAxis(inSize: number, outSize: number): ResampleAxis {
  if (inSize === outSize) {
    // ImagingResampleInner skips an axis whose size is unchanged: one tap of weight 1 copies it.
    return { first: Int32Array.from({ length: outSize }, (_, i) => i), taps: 1, weights: new Int32Array(outSize).fill(ONE) };
  }
  const scale = inSize / outSize;
  const filterScale = Math.max(1, scale);
  const support = filterScale;
  // Pillow multiplies by the inverse (`inv_filterscale`); dividing could round differently.
  const inverse = 1 / filterScale;
  // Resample.c's `ksize`: the most a window can hold.
  const most = Math.ceil(support) * 2 + 1;
  const real = new Float64Array(most);
  const fixed = new Int32Array(outSize * most);
  const starts = new Int32Array(outSize);
  const counts = new Int32Array(outSize);
  let taps = 1;
  for (let i = 0, k = 0; i < outSize; i++, k += most) {
    const center = (i + 0.5) * scale;
    const lo = Math.max(0, Math.trunc(center - support + 0.5));
    const n = Math.min(inSize, Math.trunc(center + support + 0.5)) - lo;
    let sum = 0;
    for (let t = 0; t < n; t++) sum += real[t] = triangle((t + lo - center + 0.5) * inverse);
    // The triangle is never negative, so the `-0.5` branch of normalize_coeffs_8bpc never runs.
    for (let t = 0; t < n; t++) fixed[k + t] = Math.trunc(0.5 + (sum !== 0 ? real[t]! / sum : real[t]!) * ONE);
    let from = 0;
    let to = n;
    while (from < to && fixed[k + from] === 0) from++;
    while (to > from && fixed[k + to - 1] === 0) to--;
    fixed.copyWithin(k, k + from, k + to);
    starts[i] = lo + from;
    counts[i] = to - from;
    taps = Math.max(taps, to - from);
  }
  const first = new Int32Array(outSize);
  const weights = new Int32Array(outSize * taps);
  for (let i = 0; i < outSize; i++) {
    const begin = Math.max(0, Math.min(starts[i]!, inSize - taps));
    first[i] = begin;
    weights.set(fixed.subarray(i * most, i * most + counts[i]!), i * taps + starts[i]! - begin);
  }
  return { first, taps, weights };
}

/**
 * The two passes in WebAssembly (pil-resample.wat, assembled by the build), compiled once per
 * thread, when this module loads; each PillowResampler runs its own instance of it.
 */
const KERNELS = compileWasm(new URL("./pil-resample.wasm", import.meta.url));

interface Kernels {
  memory: WasmMemory;
  horizontal(src: number, rowStep: number, pixelStep: number, rows: number, first: number, weights: number, taps: number, width: number, out: number): void;
  vertical(planes: number, width: number, rowsIn: number, first: number, weights: number, taps: number, height: number, tables: number, out: number): void;
}

/** A picture read along `along` then across, its pixel (c, x, y) at `y * rowStep + x * pixelStep + c`: RGB bytes together. */
interface Pass {
  rgb: Uint8Array;
  pixelStep: number;
  rowStep: number;
  along: ResampleAxis;
  across: ResampleAxis;
}

/** The most memory an instance keeps between pictures: a 4032x3024 photo to 1066x800 takes 60 MB. */
const KEEP_MEMORY_BYTES = 128 << 20;

/** A block of the kernels' memory: 16-byte aligned, with 64 bytes after it that the SIMD loop may touch. */
const align = (bytes: number) => (bytes + 64 + 15) & ~15;

/**
 * Pillow's `image.resize((width, height), Image.BILINEAR)` of RGB pictures, one after another,
 * in one WebAssembly instance (its memory grows to the largest picture and is reused). As
 * ImagingResampleInner: the horizontal pass first, on only the rows the vertical pass reads, each
 * byte rounded and clipped, then the vertical pass. Since Pillow 12.2 `Image.resize` runs a
 * picture more than 100 times taller than wide that loses height vertically first ("Resize tall
 * images vertically first"): done here by reading it transposed.
 */
export class PillowResampler {
  #kernels = instantiateWasm<Kernels>(KERNELS);
  /** The axes of the last few sizes: pictures of one folder often share one. */
  readonly #axes = new Map<string, ResampleAxis>();

  #axis(inSize: number, outSize: number): ResampleAxis {
    const key = `${inSize}>${outSize}`;
    let axis = this.#axes.get(key);
    if (!axis) {
      if (this.#axes.size >= 4) this.#axes.clear();
      this.#axes.set(key, (axis = bilinearAxis(inSize, outSize)));
    }
    return axis;
  }

  /** The resized picture written into `target` through its tables. */
  resizeInto(image: RgbImage, width: number, height: number, target: ResizeTarget): void {
    const { rgb } = image;
    if (image.height > image.width * 100 && height < image.height) {
      const along = this.#axis(image.height, height);
      const across = this.#axis(image.width, width);
      this.#run({ rgb, pixelStep: 3 * image.width, rowStep: 3, along, across }, { ...target, pixelStep: target.rowStep, rowStep: target.pixelStep });
    } else {
      const along = this.#axis(image.width, width);
      const across = this.#axis(image.height, height);
      this.#run({ rgb, pixelStep: 3, rowStep: 3 * image.width, along, across }, target);
    }
  }

  #run({ rgb, pixelStep, rowStep, along, across }: Pass, target: ResizeTarget): void {
    const outAlong = along.first.length;
    const outAcross = across.first.length;
    // The source rows the vertical pass reads: [y0, y1).
    let y0 = Infinity;
    let y1 = 0;
    for (const start of across.first) {
      y0 = Math.min(y0, start);
      y1 = Math.max(y1, start + across.taps);
    }
    const rows = y1 - y0;
    // The memory: tables, both axes, the source, the horizontal pass's byte planes, the floats.
    const tables = 0;
    const alongFirst = tables + align(3 * 256 * 4);
    const alongWeights = alongFirst + align(4 * outAlong);
    const acrossFirst = alongWeights + align(4 * along.weights.length);
    const acrossWeights = acrossFirst + align(4 * outAcross);
    const source = acrossWeights + align(4 * across.weights.length);
    const planes = source + align(rgb.length);
    const out = planes + align(3 * rows * outAlong);
    const end = out + align(4 * 3 * outAlong * outAcross);
    const { memory, horizontal, vertical } = this.#kernels;
    ensureWasmMemory(memory, end);
    const bytes = new Uint8Array(memory.buffer);
    const words = new Int32Array(memory.buffer);
    const floats = new Float32Array(memory.buffer);
    target.tables.forEach((table, c) => floats.set(table.subarray(0, 256), tables / 4 + 256 * c));
    words.set(along.first, alongFirst / 4);
    words.set(along.weights, alongWeights / 4);
    words.set(across.first.map((start) => start - y0), acrossFirst / 4);
    words.set(across.weights, acrossWeights / 4);
    bytes.set(rgb, source);
    horizontal(source + y0 * rowStep, rowStep, pixelStep, rows, alongFirst, alongWeights, along.taps, outAlong, planes);
    vertical(planes, outAlong, rows, acrossFirst, acrossWeights, across.taps, outAcross, tables, out);
    copyPlanes(floats.subarray(out / 4, out / 4 + 3 * outAlong * outAcross), outAlong, outAcross, target);
    // A memory never shrinks: after a huge picture (sharp takes up to 268 megapixels, 0.8 GB of
    // RGB) the next pictures get a new instance, and the old memory goes with the old one.
    if (end > KEEP_MEMORY_BYTES) this.#kernels = instantiateWasm<Kernels>(KERNELS);
  }
}

/** Three planes of `width` x `height` floats, written into the target's layout. */
function copyPlanes(planes: Float32Array, width: number, height: number, { data, offset, pixelStep, rowStep, channelStep }: ResizeTarget): void {
  const plane = width * height;
  if (pixelStep === 1 && rowStep === width && channelStep === plane) data.set(planes, offset);
  else if (pixelStep === 1) {
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < height; y++) data.set(planes.subarray(c * plane + y * width, c * plane + (y + 1) * width), offset + c * channelStep + y * rowStep);
    }
  } else {
    for (let c = 0, i = 0; c < 3; c++) {
      for (let y = 0; y < height; y++) {
        for (let x = 0, o = offset + c * channelStep + y * rowStep; x < width; x++, o += pixelStep) data[o] = planes[i++]!;
      }
    }
  }
}

/** Byte v -> v: a target that receives the resized bytes themselves. */
const IDENTITY = Float32Array.from({ length: 256 }, (_, v) => v);

/**
 * Pillow's `image.resize((width, height), Image.BILINEAR)` of an RGB image, as bytes. Without a
 * `resampler`, a new WebAssembly instance for this one picture: a caller of many passes one.
 */
export function resizeBilinear(image: RgbImage, width: number, height: number, resampler = new PillowResampler()): RgbImage {
  const data = new Float32Array(width * height * 3);
  resampler.resizeInto(image, width, height, { data, offset: 0, pixelStep: 3, rowStep: 3 * width, channelStep: 1, tables: [IDENTITY, IDENTITY, IDENTITY] });
  return { width, height, rgb: Uint8Array.from(data) };
}
