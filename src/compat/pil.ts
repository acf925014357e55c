/**
 * PIL (Pillow) behaviours that decide the pixels MDETR's models see: `Image.convert("RGB")` of
 * CMYK, and `Image.resize(size, Image.BILINEAR)`, which torchvision's `T.Resize` calls on a PIL
 * image (MDETR's datasets/transforms.py `resize`).
 */

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
/** The rounding term every sum starts from (`ss = 1 << (PRECISION_BITS - 1)`). */
const HALF = 1 << (PRECISION_BITS - 1);

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

/** Pixel (c, x, y) of a source at `data[c * channelStep + y * rowStep + x * pixelStep]`. */
interface Strided {
  data: Uint8Array;
  pixelStep: number;
  rowStep: number;
  channelStep: number;
}

/*
 * The passes below are Pillow's sums in another loop order: the three channels of a pixel
 * together, and two outputs that share a window (an upscale's neighbours mostly do) from one set
 * of loads. With two taps no clip is needed: weights are positive and sum to at most 2^22 + 1, so
 * a sum is at most 255 * (2^22 + 1) + 2^21 < 256 * 2^22, its byte at most 255, and every sum stays
 * below 2^31 (int32 arithmetic). Wider windows clip, as `clip8` does.
 */

/**
 * Resample.c `_ImagingResampleHorizontal_8bpc` over source rows [y0, y1): an interleaved RGB
 * picture of `first.length` columns, each byte the rounded, clipped sum (`clip8(ss0)`).
 */
function horizontalPass(source: Strided, axis: ResampleAxis, y0: number, y1: number): Uint8Array {
  const out = new Uint8Array(3 * axis.first.length * (y1 - y0));
  for (let y = y0, o = 0; y < y1; y++, o += 3 * axis.first.length) {
    if (axis.taps === 2) horizontalTwoTaps(source, y * source.rowStep, axis, out, o);
    else horizontalAnyTaps(source, y * source.rowStep, axis, out, o);
  }
  return out;
}

function horizontalTwoTaps({ data, pixelStep, channelStep: g }: Strided, row: number, { first, weights }: ResampleAxis, out: Uint8Array, o: number): void {
  const half = HALF;
  const bits = PRECISION_BITS;
  const b = 2 * g;
  const width = first.length;
  for (let x = 0; x < width; x++, o += 3) {
    const p = row + first[x]! * pixelStep;
    const q = p + pixelStep;
    const r0 = data[p]!, r1 = data[q]!, g0 = data[p + g]!, g1 = data[q + g]!, b0 = data[p + b]!, b1 = data[q + b]!;
    let k0 = weights[2 * x]!;
    let k1 = weights[2 * x + 1]!;
    out[o] = (half + r0 * k0 + r1 * k1) >> bits;
    out[o + 1] = (half + g0 * k0 + g1 * k1) >> bits;
    out[o + 2] = (half + b0 * k0 + b1 * k1) >> bits;
    if (x + 1 < width && first[x + 1] === first[x]) {
      x++;
      o += 3;
      k0 = weights[2 * x]!;
      k1 = weights[2 * x + 1]!;
      out[o] = (half + r0 * k0 + r1 * k1) >> bits;
      out[o + 1] = (half + g0 * k0 + g1 * k1) >> bits;
      out[o + 2] = (half + b0 * k0 + b1 * k1) >> bits;
    }
  }
}

function horizontalAnyTaps({ data, pixelStep, channelStep }: Strided, row: number, { first, taps, weights }: ResampleAxis, out: Uint8Array, o: number): void {
  for (let x = 0; x < first.length; x++, o += 3) {
    for (let c = 0; c < 3; c++) {
      let sum = HALF;
      for (let t = 0, i = row + first[x]! * pixelStep + c * channelStep, k = x * taps; t < taps; t++, i += pixelStep) sum += data[i]! * weights[k + t]!;
      out[o + c] = clip8(sum);
    }
  }
}

/** Resample.c `clip8`: the sum's byte, clipped to 0..255. */
function clip8(sum: number): number {
  const v = sum >> PRECISION_BITS;
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

/**
 * Resample.c `_ImagingResampleVertical_8bpc` over the horizontal pass's rows (the first of them
 * source row y0), each byte written through the target's table of its channel.
 */
function verticalPass(rows: Uint8Array, width: number, y0: number, axis: ResampleAxis, target: ResizeTarget): void {
  const { first, taps, weights } = axis;
  const height = first.length;
  for (let y = 0; y < height; y++) {
    const top = (first[y]! - y0) * 3 * width;
    const o = target.offset + y * target.rowStep;
    if (taps !== 2) verticalAnyTaps(rows, width, top, weights, y * taps, taps, target, o);
    else if (y + 1 < height && first[y + 1] === first[y]) {
      verticalTwoTapsTwice(rows, width, top, weights, 2 * y, target, o);
      y++;
    } else verticalTwoTaps(rows, width, top, weights, 2 * y, target, o);
  }
}

function verticalTwoTaps(rows: Uint8Array, width: number, top: number, weights: Int32Array, k: number, { data, pixelStep, channelStep: g, tables }: ResizeTarget, o: number): void {
  const red = tables[0], green = tables[1], blue = tables[2];
  const half = HALF;
  const bits = PRECISION_BITS;
  const b = 2 * g;
  const line = 3 * width;
  const k0 = weights[k]!;
  const k1 = weights[k + 1]!;
  for (let i = top, end = top + line; i < end; i += 3, o += pixelStep) {
    const j = i + line;
    data[o] = red[(half + rows[i]! * k0 + rows[j]! * k1) >> bits]!;
    data[o + g] = green[(half + rows[i + 1]! * k0 + rows[j + 1]! * k1) >> bits]!;
    data[o + b] = blue[(half + rows[i + 2]! * k0 + rows[j + 2]! * k1) >> bits]!;
  }
}

/** Two output rows with the same window (weights k and k + 2): one set of loads. */
function verticalTwoTapsTwice(rows: Uint8Array, width: number, top: number, weights: Int32Array, k: number, { data, pixelStep, rowStep, channelStep: g, tables }: ResizeTarget, o: number): void {
  const red = tables[0], green = tables[1], blue = tables[2];
  const half = HALF;
  const bits = PRECISION_BITS;
  const b = 2 * g;
  const line = 3 * width;
  const k0 = weights[k]!;
  const k1 = weights[k + 1]!;
  const j0 = weights[k + 2]!;
  const j1 = weights[k + 3]!;
  for (let i = top, end = top + line; i < end; i += 3, o += pixelStep) {
    const j = i + line;
    const q = o + rowStep;
    const r0 = rows[i]!, r1 = rows[j]!, g0 = rows[i + 1]!, g1 = rows[j + 1]!, b0 = rows[i + 2]!, b1 = rows[j + 2]!;
    data[o] = red[(half + r0 * k0 + r1 * k1) >> bits]!;
    data[o + g] = green[(half + g0 * k0 + g1 * k1) >> bits]!;
    data[o + b] = blue[(half + b0 * k0 + b1 * k1) >> bits]!;
    data[q] = red[(half + r0 * j0 + r1 * j1) >> bits]!;
    data[q + g] = green[(half + g0 * j0 + g1 * j1) >> bits]!;
    data[q + b] = blue[(half + b0 * j0 + b1 * j1) >> bits]!;
  }
}

function verticalAnyTaps(rows: Uint8Array, width: number, top: number, weights: Int32Array, k: number, taps: number, { data, pixelStep, channelStep: g, tables }: ResizeTarget, o: number): void {
  const red = tables[0], green = tables[1], blue = tables[2];
  const line = 3 * width;
  for (let i = top, end = top + line; i < end; i += 3, o += pixelStep) {
    let sr = HALF;
    let sg = HALF;
    let sb = HALF;
    for (let t = 0, p = i; t < taps; t++, p += line) {
      const w = weights[k + t]!;
      sr += rows[p]! * w;
      sg += rows[p + 1]! * w;
      sb += rows[p + 2]! * w;
    }
    data[o] = red[clip8(sr)]!;
    data[o + g] = green[clip8(sg)]!;
    data[o + 2 * g] = blue[clip8(sb)]!;
  }
}

/**
 * Pillow's `image.resize((width, height), Image.BILINEAR)` of an RGB image, written into `target`
 * through its tables. As ImagingResampleInner: the horizontal pass first, on only the rows the
 * vertical pass reads, then the vertical pass, each rounded and clipped to bytes. Since Pillow
 * 12.2 `Image.resize` runs a picture more than 100 times taller than wide that loses height
 * vertically first ("Resize tall images vertically first"): done here by reading it transposed.
 */
export function resizeBilinearInto(image: RgbImage, width: number, height: number, target: ResizeTarget): void {
  const interleaved = { data: image.rgb, channelStep: 1 };
  if (image.height > image.width * 100 && height < image.height) {
    const transposed = { ...interleaved, pixelStep: 3 * image.width, rowStep: 3 };
    resizeRows(transposed, bilinearAxis(image.height, height), bilinearAxis(image.width, width), { ...target, pixelStep: target.rowStep, rowStep: target.pixelStep });
  } else {
    resizeRows({ ...interleaved, pixelStep: 3, rowStep: 3 * image.width }, bilinearAxis(image.width, width), bilinearAxis(image.height, height), target);
  }
}

/** The two passes: along the rows, then across them, with only the rows that are read. */
function resizeRows(source: Strided, along: ResampleAxis, across: ResampleAxis, target: ResizeTarget): void {
  let y0 = Infinity;
  let y1 = 0;
  across.first.forEach((start) => {
    y0 = Math.min(y0, start);
    y1 = Math.max(y1, start + across.taps);
  });
  verticalPass(horizontalPass(source, along, y0, y1), along.first.length, y0, across, target);
}

/** Byte v -> v: a target that receives the resized bytes themselves. */
const IDENTITY = Float32Array.from({ length: 256 }, (_, v) => v);

/** Pillow's `image.resize((width, height), Image.BILINEAR)` of an RGB image, as bytes. */
export function resizeBilinear(image: RgbImage, width: number, height: number): RgbImage {
  const data = new Float32Array(width * height * 3);
  resizeBilinearInto(image, width, height, { data, offset: 0, pixelStep: 3, rowStep: 3 * width, channelStep: 1, tables: [IDENTITY, IDENTITY, IDENTITY] });
  return { width, height, rgb: Uint8Array.from(data) };
}
