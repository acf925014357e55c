/**
 * LVISEval.compute_iou and evaluate_img for one (category, image): greedy matching of detections,
 * best score first, to ground truth at each IoU threshold and for each area range.
 */
import { boxIou } from "../../compat/coco-mask/rle.js";
import { linspace } from "../../compat/numpy.js";
import { atLeast } from "../../core/growable.js";

/** Params.iou_thrs and rec_thrs. */
export const IOU_THRESHOLDS = linspace(0.5, 0.95, Math.round((0.95 - 0.5) / 0.05) + 1);
export const RECALL_THRESHOLDS = linspace(0.0, 1.0, Math.round((1.0 - 0.0) / 0.01) + 1);
/** Params.area_rng: all, small, medium, large (bounds inclusive). */
export const AREA_RANGES: readonly (readonly [number, number])[] = [
  [0, 1e5 ** 2],
  [0, 32 ** 2],
  [32 ** 2, 96 ** 2],
  [96 ** 2, 1e5 ** 2],
];
export const AREA_LABELS = ["all", "small", "medium", "large"] as const;

/** Every threshold's bit in an outcome (AreaOutcomes). */
export const ALL_THRESHOLDS = (1 << IOU_THRESHOLDS.length) - 1;

/**
 * pycocotools' bbIou for [x, y, w, h] boxes, no crowd, into `out` (rows are detections, columns
 * ground truth), which is returned, or a larger one where it is too small.
 */
export function boxIous(dets: Int32Array, detBoxes: Float64Array, gts: Int32Array, gtBoxes: Float64Array, out: Float64Array): Float64Array {
  const columns = gts.length;
  const ious = atLeast(out, dets.length * columns, Float64Array);
  for (let i = 0; i < dets.length; i++) {
    for (let j = 0; j < columns; j++) ious[i * columns + j] = boxIou(detBoxes, dets[i]!, gtBoxes, gts[j]!);
  }
  return ious;
}

export interface ImageCategoryInput {
  /** Detection indices, already in evaluation order (score descending, ties in file order). */
  dets: Int32Array;
  /** Ground-truth indices in file order. */
  gts: Int32Array;
  /** ious[i * gts.length + j] for detection i and ground truth j (the array may be longer). */
  ious: Float64Array;
  /** bestIou[i]: detection i's best IoU (MatchScratch.bestIous). */
  bestIou: Float64Array;
  gtArea: Float64Array;
  gtIgnore: Uint8Array;
  gtId: Float64Array;
  /** lvis-api's `area` of each detection (DetectionColumns.area). */
  detArea: Float64Array;
  /** The category is in the image's not_exhaustive_category_ids. */
  notExhaustive: boolean;
}

/** Per detection, bit t set when it is a true / false positive at threshold t (neither: ignored). */
export interface AreaOutcomes {
  truePositive: Uint16Array;
  falsePositive: Uint16Array;
}

/** Working memory for evaluateImageCategory, grown as needed and reused from call to call. */
export class MatchScratch {
  order = new Int32Array(16);
  gtIgnored = new Uint8Array(16);
  gtTaken = new Uint8Array(16);
  detOutside = new Uint8Array(256);
  private bestIou = new Float64Array(256);

  fit(gts: number, dets: number): void {
    this.order = atLeast(this.order, gts, Int32Array);
    this.gtIgnored = atLeast(this.gtIgnored, gts, Uint8Array);
    this.gtTaken = atLeast(this.gtTaken, gts, Uint8Array);
    this.detOutside = atLeast(this.detOutside, dets, Uint8Array);
  }

  /**
   * Each detection's best IoU with any of the ground truth (Infinity where one is NaN), for
   * ImageCategoryInput.bestIou: one pass over a pair's IoUs for all its area ranges. The array is
   * reused by the next call.
   */
  bestIous(ious: Float64Array, dets: number, gts: number): Float64Array {
    this.bestIou = atLeast(this.bestIou, dets, Float64Array);
    for (let i = 0; i < dets; i++) {
      let best = -Infinity;
      for (let j = 0; j < gts; j++) {
        const iou = ious[i * gts + j]!;
        // A NaN IoU would pass the matching's `iou < best` test: no shortcut for its detection.
        if (iou !== iou) best = Infinity;
        else if (iou > best) best = iou;
      }
      this.bestIou[i] = best;
    }
    return this.bestIou;
  }
}

/**
 * evaluate_img for one area range: the outcomes of input.dets go to `out` from `at` (which must
 * hold zeros there). (Its num_gt, the ground truth that counts in the range, the caller counts
 * once for all images.)
 */
export function evaluateImageCategory(input: ImageCategoryInput, range: readonly [number, number], out: AreaOutcomes, at: number, scratch: MatchScratch): void {
  const { dets, gts, ious } = input;
  const low = range[0];
  const high = range[1];
  const columns = gts.length;
  scratch.fit(columns, dets.length);
  const { order, gtIgnored, gtTaken, detOutside } = scratch;
  // Ground truth to ignore goes last, each part in file order (np.argsort(gt_ig, kind="mergesort")).
  let numGt = 0;
  for (let j = 0; j < columns; j++) {
    const g = gts[j]!;
    if (!(input.gtIgnore[g] || input.gtArea[g]! < low || input.gtArea[g]! > high)) {
      gtIgnored[numGt] = 0;
      order[numGt++] = j;
    }
  }
  for (let j = 0, k = numGt; j < columns; j++) {
    const g = gts[j]!;
    if (input.gtIgnore[g] || input.gtArea[g]! < low || input.gtArea[g]! > high) {
      gtIgnored[k] = 1;
      order[k++] = j;
    }
  }
  const { truePositive, falsePositive } = out;
  let anyInside = false;
  for (let i = 0; i < dets.length; i++) {
    const area = input.detArea[dets[i]!]!;
    detOutside[i] = area < low || area > high || input.notExhaustive ? 1 : 0;
    if (!detOutside[i]) anyInside = true;
  }
  // No ground truth counts here and every detection is outside the range: a detection can then
  // only be matched to an ignored ground truth or stay unmatched outside, ignored either way, so
  // no outcome changes (most pairs, in the area ranges their boxes are not in).
  if (numGt === 0 && !anyInside) return;
  const bestIou = input.bestIou;
  const gtId = input.gtId;
  for (let t = 0; t < IOU_THRESHOLDS.length; t++) {
    const threshold = IOU_THRESHOLDS[t]!;
    const least = Math.min(threshold, 1 - 1e-10);
    // A loop, not fill(): columns are a handful, and the builtin's call costs more than them.
    for (let k = 0; k < columns; k++) gtTaken[k] = 0;
    for (let i = 0; i < dets.length; i++) {
      // No ground truth reaches the threshold: unmatched, whatever is taken (most detections).
      if (bestIou[i]! < least) {
        if (!detOutside[i]) falsePositive[at + i]! |= 1 << t;
        continue;
      }
      let best = least;
      let m = -1;
      for (let k = 0; k < columns; k++) {
        if (gtTaken[k]) continue;
        // Matched to a counted ground truth already, and the rest are ignored ones: stop.
        if (m > -1 && gtIgnored[m] === 0 && gtIgnored[k] === 1) break;
        const iou = ious[i * columns + order[k]!]!;
        if (iou < best) continue;
        best = iou;
        m = k;
      }
      let matchedId = 0;
      let ignore = false;
      if (m > -1) {
        gtTaken[m] = 1;
        matchedId = gtId[gts[order[m]!]!]!;
        ignore = gtIgnored[m] === 1;
      }
      // dt_ig |= (dt_m == 0) & (outside the area range, or the category is not exhaustive here).
      if (matchedId === 0 && detOutside[i]) ignore = true;
      if (ignore) continue;
      // lvis-api tests the matched ground truth's id for truth: an id of 0 reads as unmatched.
      if (matchedId !== 0) truePositive[at + i]! |= 1 << t;
      else falsePositive[at + i]! |= 1 << t;
    }
  }
}
