/**
 * LVISEval.accumulate for one (category, area range): detections of all images ranked by score
 * (a stable sort over images in id order), cumulative true and false positives, the precision
 * envelope sampled at 101 recall points with searchsorted(..., "left").
 */
import { SPACING_OF_ONE, searchSortedLeft } from "../../compat/numpy.js";
import { atLeast } from "../../core/growable.js";
import { ALL_THRESHOLDS, IOU_THRESHOLDS, RECALL_THRESHOLDS } from "./match.js";

export interface CategoryAreaCurve {
  /** precision[t * 101 + r]. */
  precision: Float64Array;
  /** recall[t]. */
  recall: Float64Array;
}

/**
 * The order accumulate ranks a category's detections in: score descending, a stable sort
 * (np.argsort(-scores, kind="mergesort")), so equal scores keep their order (images by id, then
 * each image's ranking). The same for every area range, so it is computed once per category.
 *
 * The scores come as runs that are already ranked (one per image), so the runs are merged,
 * pairwise and bottom-up, the earlier run winning ties: a stable merge sort that starts from
 * the runs instead of from single elements. The result is valid until the scratch's next use.
 */
export function rankByScore(scores: Float64Array, scratch: AccumulateScratch): Int32Array {
  const n = scores.length;
  scratch.fitRanking(n);
  let { rankedFrom: from, rankedTo: to, keysFrom, keysTo } = scratch;
  const runs = scratch.runs;
  let count = 0;
  for (let i = 0; i < n; i++) {
    from[i] = i;
    keysFrom[i] = scores[i]!;
    if (i === 0 || scores[i]! > scores[i - 1]!) runs[count++] = i;
  }
  runs[count] = n;
  while (count > 1) {
    let merged = 0;
    for (let r = 0; r < count; r += 2) {
      const lo = runs[r]!;
      const mid = runs[r + 1]!;
      const hi = r + 2 <= count ? runs[r + 2]! : mid;
      let i = lo;
      let j = mid;
      let k = lo;
      while (i < mid && j < hi) {
        // The later run's element goes first only when strictly better: ties keep their order.
        if (keysFrom[j]! > keysFrom[i]!) {
          keysTo[k] = keysFrom[j]!;
          to[k++] = from[j++]!;
        } else {
          keysTo[k] = keysFrom[i]!;
          to[k++] = from[i++]!;
        }
      }
      for (; i < mid; i++, k++) {
        keysTo[k] = keysFrom[i]!;
        to[k] = from[i]!;
      }
      for (; j < hi; j++, k++) {
        keysTo[k] = keysFrom[j]!;
        to[k] = from[j]!;
      }
      runs[merged++] = lo;
    }
    runs[merged] = n;
    count = merged;
    // Plain swaps: a destructuring swap goes through the iterator protocol, and optimised code
    // reaching it without type feedback deoptimised on every category (dozens of times a run).
    const rows = from;
    from = to;
    to = rows;
    const keys = keysFrom;
    keysFrom = keysTo;
    keysTo = keys;
  }
  return from.subarray(0, n);
}

/** Working memory for rankByScore and precisionRecall, grown as needed and reused from call to call. */
export class AccumulateScratch {
  readonly truePositives = new Int32Array(IOU_THRESHOLDS.length);
  readonly ownFalsePositives = new Int32Array(IOU_THRESHOLDS.length);
  fpAt = new Int32Array(0);
  rc = new Float64Array(0);
  pr = new Float64Array(0);

  rankedFrom = new Int32Array(0);
  rankedTo = new Int32Array(0);
  keysFrom = new Float64Array(0);
  keysTo = new Float64Array(0);
  runs = new Int32Array(0);

  fitRanking(detections: number): void {
    this.rankedFrom = atLeast(this.rankedFrom, detections, Int32Array);
    this.rankedTo = atLeast(this.rankedTo, detections, Int32Array);
    this.keysFrom = atLeast(this.keysFrom, detections, Float64Array);
    this.keysTo = atLeast(this.keysTo, detections, Float64Array);
    this.runs = atLeast(this.runs, detections + 1, Int32Array);
  }

  fit(detections: number): void {
    this.fpAt = atLeast(this.fpAt, IOU_THRESHOLDS.length * detections, Int32Array);
    this.rc = atLeast(this.rc, detections, Float64Array);
    this.pr = atLeast(this.pr, detections, Float64Array);
  }
}

/** Doubles in one curve (precision, then recall): curves share allocations (see curveArrays). */
export const CURVE_LENGTH = IOU_THRESHOLDS.length * (RECALL_THRESHOLDS.length + 1);

/** A curve over `memory` from `offset` (CURVE_LENGTH zeros). */
export function curveAt(memory: Float64Array, offset: number): CategoryAreaCurve {
  const precisionLength = IOU_THRESHOLDS.length * RECALL_THRESHOLDS.length;
  return { precision: memory.subarray(offset, offset + precisionLength), recall: memory.subarray(offset + precisionLength, offset + CURVE_LENGTH) };
}

/**
 * truePositive[d] / falsePositive[d]: bit t set when detection d is one at threshold t; `order`
 * from rankByScore.
 *
 * lvis-api builds rc and pr over every detection, ignored ones included, then takes the envelope
 * and searches rc. Only the true positives need visiting: rc rises only at one, so the first index
 * searchsorted finds (rc[i] >= a recall point > 0) is a true positive's; between two true
 * positives pr only falls (fp grows, tp stays) or stays (an ignored detection), so the envelope
 * there is the larger of the next true positive's; and for the recall point 0 (index 0) it is the
 * maximum over all, again a true positive's, or 0 with none. The values are computed with the
 * same operations, so they are the same doubles.
 *
 * Writes the curve into `out` (zeros on entry).
 */
export function precisionRecall(order: Int32Array, truePositive: Uint16Array, falsePositive: Uint16Array, numGt: number, scratch: AccumulateScratch, out: CategoryAreaCurve): void {
  const thresholds = IOU_THRESHOLDS.length;
  const recallPoints = RECALL_THRESHOLDS.length;
  const n = order.length;
  const { precision, recall } = out;
  // One pass over the ranking for all thresholds: fpAt[t * n + k] is how many false positives at
  // threshold t rank above its k-th true positive (k from 0). A false positive at every threshold
  // (the commonest detection) is one count for all; the others add to their thresholds' own.
  const { truePositives, ownFalsePositives } = scratch;
  truePositives.fill(0);
  ownFalsePositives.fill(0);
  let everyFalsePositive = 0;
  scratch.fit(n);
  const { fpAt, rc, pr } = scratch;
  for (let i = 0; i < n; i++) {
    const d = order[i]!;
    let fpBits = falsePositive[d]!;
    if (fpBits === ALL_THRESHOLDS) {
      everyFalsePositive++;
      continue;
    }
    for (let tpBits = truePositive[d]!; tpBits !== 0; tpBits &= tpBits - 1) {
      const t = 31 - Math.clz32(tpBits & -tpBits);
      fpAt[t * n + truePositives[t]!++] = everyFalsePositive + ownFalsePositives[t]!;
    }
    for (; fpBits !== 0; fpBits &= fpBits - 1) ownFalsePositives[31 - Math.clz32(fpBits & -fpBits)]!++;
  }
  // rc = tp / num_gt at the k-th true positive: the same at every threshold.
  let mostTruePositives = 0;
  for (let t = 0; t < thresholds; t++) mostTruePositives = Math.max(mostTruePositives, truePositives[t]!);
  for (let k = 0; k < mostTruePositives; k++) rc[k] = (k + 1) / numGt;
  for (let t = 0; t < thresholds; t++) {
    const tp = truePositives[t]!;
    // tp / (fp + tp + np.spacing(1)): numpy's float64 operations, in its order.
    for (let k = 0; k < tp; k++) pr[k] = (k + 1) / (fpAt[t * n + k]! + (k + 1) + SPACING_OF_ONE);
    // rc[-1]: the last detection's recall is the last true positive's (0 without one).
    recall[t] = tp > 0 ? rc[tp - 1]! : 0;
    for (let k = tp - 1; k > 0; k--) if (pr[k]! > pr[k - 1]!) pr[k - 1] = pr[k]!;
    // np.searchsorted(rc, rec_thrs, side="left"); past the end, precision stays 0. The recall
    // points ascend, so each search goes on from the previous answer.
    let k = 0;
    for (let r = 0; r < recallPoints; r++) {
      k = searchSortedLeft(rc, RECALL_THRESHOLDS[r]!, k, tp);
      if (k === tp) break;
      precision[t * recallPoints + r] = pr[k]!;
    }
  }
}
