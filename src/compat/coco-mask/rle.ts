/**
 * Run-length encoded binary masks exactly as cocoapi's `common/maskApi.c` (pycocotools) keeps and
 * combines them. A mask of h x w pixels is read column by column (pixel (x, y) is the linear index
 * x * h + y); `counts` alternate runs of 0s and 1s and always start with a 0-run, possibly empty.
 * Counts are C `uint`s, so the arithmetic that can wrap is done modulo 2^32 as the C code does.
 */

export interface Rle {
  /** Height and width of the mask (`size: [h, w]` in COCO JSON). */
  h: number;
  w: number;
  counts: Uint32Array;
}

/** `rleEncode`: a run ends wherever a byte differs from the one before (so 0, 1, 2 are three runs). */
export function encodeMask(mask: Uint8Array, h: number, w: number): Rle {
  const a = h * w;
  const counts: number[] = [];
  let previous = 0;
  let run = 0;
  for (let j = 0; j < a; j++) {
    if (mask[j] !== previous) {
      counts.push(run);
      run = 0;
      previous = mask[j]!;
    }
    run++;
  }
  counts.push(run);
  return { h, w, counts: Uint32Array.from(counts) };
}

/** `rleDecode`: the column-major 0/1 mask of h * w bytes. */
export function decodeRle(rle: Rle): Uint8Array {
  const mask = new Uint8Array(rle.h * rle.w);
  let at = 0;
  let value = 0;
  for (const run of rle.counts) {
    // A run past the end (counts not summing to h * w) cannot be written; readers refuse those.
    if (value) mask.fill(1, at, Math.min(at + run, mask.length));
    at += run;
    value ^= 1;
  }
  return mask;
}

/** `rleArea`: the number of foreground pixels (the odd-index counts). */
export function rleArea(rle: Rle): number {
  let area = 0;
  const c = rle.counts;
  for (let j = 1; j < c.length; j += 2) area += c[j]!;
  return area >>> 0;
}

/**
 * `rleToBbox`: the tight [x, y, w, h] of the foreground, [0, 0, 0, 0] when there is none. A trailing
 * 0-run is ignored (m is rounded down to even); a column holding the end of one run and the start of
 * another spans the whole height. `uint` arithmetic as in C (t = cc - j % 2 wraps for a 1-run of 0
 * at the very start, which only non-canonical counts have).
 */
export function rleToBbox(rle: Rle, out: Float64Array = new Float64Array(4), at = 0): Float64Array {
  const { h, w, counts } = rle;
  const m = counts.length - (counts.length % 2);
  if (m === 0) {
    out.fill(0, at, at + 4);
    return out;
  }
  let xs = w, ys = h, xe = 0, ye = 0, cc = 0, xp = 0;
  for (let j = 0; j < m; j++) {
    cc = (cc + counts[j]!) >>> 0;
    const t = (cc - (j % 2)) >>> 0;
    const y = t % h;
    const x = (t - y) / h;
    if (j % 2 === 0) xp = x;
    else if (xp < x) {
      ys = 0;
      ye = h - 1;
    }
    xs = Math.min(xs, x);
    xe = Math.max(xe, x);
    ys = Math.min(ys, y);
    ye = Math.max(ye, y);
  }
  out[at] = xs;
  out[at + 1] = ys;
  out[at + 2] = (xe - xs + 1) >>> 0;
  out[at + 3] = (ye - ys + 1) >>> 0;
  return out;
}

const EMPTY: Rle = { h: 0, w: 0, counts: new Uint32Array(0) };

/**
 * `rleMerge`: union (intersect = false) or intersection of masks of one size. One mask comes back
 * as it is (counts copied, not made canonical); masks of different sizes give an empty 0 x 0 RLE.
 */
export function mergeRles(rles: readonly Rle[], intersect: boolean): Rle {
  const first = rles[0];
  if (!first) return EMPTY;
  if (rles.length === 1) return { h: first.h, w: first.w, counts: first.counts.slice() };
  const { h, w } = first;
  let a = first.counts;
  for (let i = 1; i < rles.length; i++) {
    const b = rles[i]!;
    if (b.h !== h || b.w !== w) return EMPTY;
    a = mergeTwo(a, b.counts, intersect);
  }
  return { h, w, counts: a };
}

/** One step of rleMerge's loop over two count lists (the walk of maskApi.c, run for run). */
function mergeTwo(A: Uint32Array, B: Uint32Array, intersect: boolean): Uint32Array {
  const out: number[] = [];
  let ca = A[0] ?? 0, cb = B[0] ?? 0;
  let v = 0, va = 0, vb = 0, ia = 1, ib = 1, cc = 0, ct = 1;
  while (ct > 0) {
    const c = Math.min(ca, cb);
    cc += c;
    ct = 0;
    ca -= c;
    if (!ca && ia < A.length) {
      ca = A[ia++]!;
      va ^= 1;
    }
    ct += ca;
    cb -= c;
    if (!cb && ib < B.length) {
      cb = B[ib++]!;
      vb ^= 1;
    }
    ct += cb;
    const vp = v;
    v = intersect ? va & vb : va | vb;
    if (v !== vp || ct === 0) {
      out.push(cc);
      cc = 0;
    }
  }
  return Uint32Array.from(out);
}

/** Intersection and union pixel counts of two same-size masks (the inner walk of rleIou). */
export function intersectionAndUnion(dt: Rle, gt: Rle): { intersection: number; union: number } {
  const A = dt.counts, B = gt.counts;
  let ca = A[0] ?? 0, cb = B[0] ?? 0;
  let va = 0, vb = 0, ia = 1, ib = 1, intersection = 0, union = 0, ct = 1;
  while (ct > 0) {
    const c = Math.min(ca, cb);
    if (va || vb) {
      union += c;
      if (va && vb) intersection += c;
    }
    ct = 0;
    ca -= c;
    if (!ca && ia < A.length) {
      ca = A[ia++]!;
      va ^= 1;
    }
    ct += ca;
    cb -= c;
    if (!cb && ib < B.length) {
      cb = B[ib++]!;
      vb ^= 1;
    }
    ct += cb;
  }
  return { intersection, union };
}

/** Packed [x, y, w, h] boxes, 4 numbers each (float32 holds whole-pixel boxes exactly). */
export type PackedBoxes = Float32Array | Float64Array;

/**
 * bbIou's intersection of box `d` of `dt` and box `g` of `gt`: w * h of the overlap, 0 where the
 * overlap has no positive width or height (bbIou leaves those pairs at 0).
 */
export function boxIntersection(dt: PackedBoxes, d: number, gt: PackedBoxes, g: number): number {
  const dx = dt[4 * d]!, dy = dt[4 * d + 1]!, dw = dt[4 * d + 2]!, dh = dt[4 * d + 3]!;
  const gx = gt[4 * g]!, gy = gt[4 * g + 1]!, gw = gt[4 * g + 2]!, gh = gt[4 * g + 3]!;
  const iw = Math.min(dw + dx, gw + gx) - Math.max(dx, gx);
  if (iw <= 0) return 0;
  const ih = Math.min(dh + dy, gh + gy) - Math.max(dy, gy);
  if (ih <= 0) return 0;
  return iw * ih;
}

/** bbIou of one pair in float64; for a crowd ground truth the union is the detection's area. */
export function boxIou(dt: PackedBoxes, d: number, gt: PackedBoxes, g: number, crowd = false): number {
  const i = boxIntersection(dt, d, gt, g);
  if (i === 0) return 0;
  const da = dt[4 * d + 2]! * dt[4 * d + 3]!;
  return i / (crowd ? da : da + gt[4 * g + 2]! * gt[4 * g + 3]! - i);
}

/** `bbIou` on packed boxes: rows are detections, columns ground truth. */
export function boxIous(dt: PackedBoxes, gt: PackedBoxes, iscrowd?: ArrayLike<number>): Float64Array {
  const m = dt.length / 4, n = gt.length / 4;
  const out = new Float64Array(m * n);
  for (let g = 0; g < n; g++) {
    const crowd = iscrowd !== undefined && !!iscrowd[g];
    for (let d = 0; d < m; d++) out[d * n + g] = boxIou(dt, d, gt, g, crowd);
  }
  return out;
}

/**
 * rleIou's value for a pair whose boxes overlap: -1 for masks of other sizes, 0 without
 * intersection, else I / U, or I / area(dt) for a crowd ground truth.
 */
export function maskIou(dt: Rle, gt: Rle, crowd = false): number {
  if (dt.h !== gt.h || dt.w !== gt.w) return -1;
  const { intersection, union } = intersectionAndUnion(dt, gt);
  return intersection === 0 ? 0 : intersection / (crowd ? rleArea(dt) : union);
}

/**
 * `rleIou` (pycocotools `iou`): rows are detections, columns ground truth. Only pairs whose boxes
 * overlap (box IoU > 0) get a mask IoU (maskIou).
 */
export function rleIous(dt: readonly Rle[], gt: readonly Rle[], iscrowd?: ArrayLike<number>): Float64Array {
  const out = boxIous(packedBoxes(dt), packedBoxes(gt), iscrowd);
  const n = gt.length;
  for (let d = 0; d < dt.length; d++) {
    for (let g = 0; g < n; g++) {
      if (out[d * n + g]! > 0) out[d * n + g] = maskIou(dt[d]!, gt[g]!, iscrowd !== undefined && !!iscrowd[g]);
    }
  }
  return out;
}

export function packedBoxes(rles: readonly Rle[]): Float64Array {
  const out = new Float64Array(4 * rles.length);
  rles.forEach((rle, i) => rleToBbox(rle, out, 4 * i));
  return out;
}
