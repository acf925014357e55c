/**
 * LVISEval.accumulate for one (category, area range): detections of all images ranked by score
 * (a stable sort over images in id order), cumulative true and false positives, the precision
 * envelope sampled at 101 recall points with searchsorted(..., "left").
 */
import { SPACING_OF_ONE, searchSortedLeft } from "../../compat/numpy.js";
import { IOU_THRESHOLDS, RECALL_THRESHOLDS } from "./match.js";

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
 */
export function rankByScore(scores: ArrayLike<number>): Int32Array {
  const order = Int32Array.from({ length: scores.length }, (_, i) => i);
  // The index breaks ties, which makes the result that of a stable sort whatever sort is used.
  order.sort((a, b) => scores[b]! - scores[a]! || a - b);
  return order;
}

/** truePositive[d] / falsePositive[d]: bit t set when detection d is one at threshold t; `order` from rankByScore. */
export function precisionRecall(order: Int32Array, truePositive: ArrayLike<number>, falsePositive: ArrayLike<number>, numGt: number): CategoryAreaCurve {
  const thresholds = IOU_THRESHOLDS.length;
  const recallPoints = RECALL_THRESHOLDS.length;
  const n = order.length;
  // The bits in ranked order, gathered once for the ten thresholds.
  const tpRanked = new Uint16Array(n);
  const fpRanked = new Uint16Array(n);
  for (let i = 0; i < n; i++) {
    const d = order[i]!;
    tpRanked[i] = truePositive[d]!;
    fpRanked[i] = falsePositive[d]!;
  }
  const precision = new Float64Array(thresholds * recallPoints);
  const recall = new Float64Array(thresholds);
  const pr = new Float64Array(n);
  const rc = new Float64Array(n);
  for (let t = 0; t < thresholds; t++) {
    const bit = 1 << t;
    let tp = 0;
    let fp = 0;
    for (let i = 0; i < n; i++) {
      if (tpRanked[i]! & bit) tp++;
      if (fpRanked[i]! & bit) fp++;
      rc[i] = tp / numGt;
      pr[i] = tp / (fp + tp + SPACING_OF_ONE);
    }
    recall[t] = n ? rc[n - 1]! : 0;
    for (let i = n - 1; i > 0; i--) if (pr[i]! > pr[i - 1]!) pr[i - 1] = pr[i]!;
    // np.searchsorted(rc, rec_thrs, side="left"); past the end, precision stays 0. The recall
    // points ascend, so each search goes on from the previous answer.
    let i = 0;
    for (let r = 0; r < recallPoints; r++) {
      i = searchSortedLeft(rc, RECALL_THRESHOLDS[r]!, i, n);
      if (i === n) break;
      precision[t * recallPoints + r] = pr[i]!;
    }
  }
  return { precision, recall };
}
