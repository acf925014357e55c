/**
 * LVISEval.summarize over every category's curves: each figure is np.mean(s[s > -1]) of a slice s
 * of the precision array [T, R, K, A] (recall: [T, K, A]), so the defined values are summed in
 * numpy's flattening order (threshold, recall point, category) as numpy sums (compat/numpy.ts
 * addReduce), which makes the figures the same doubles as lvis-api's, not merely close.
 */
import { addReduce } from "../../compat/numpy.js";
import type { CategoryCurves } from "./category.js";
import type { LvisGroundTruthColumns } from "./columns.js";
import { AREA_LABELS, IOU_THRESHOLDS, RECALL_THRESHOLDS } from "./match.js";
import type { Selection } from "./select.js";

export interface LvisEvaluation {
  /** AP, AP50, AP75, APs, APm, APl, APr, APc, APf, AR@N, ARs@N, ARm@N, ARl@N; -1 = nothing to average. */
  metrics: Record<string, number>;
  perCategory: { numGt: number; numDets: number; ap: number; ap50: number }[];
}

const T = IOU_THRESHOLDS.length;
const R = RECALL_THRESHOLDS.length;

/** np.mean of values[from, from + n), or -1 for none (_summarize's `len(s[s > -1]) == 0`). */
function mean(values: Float64Array, from: number, n: number): number {
  return n === 0 ? -1 : addReduce(values, from, n) / n;
}

/** Rows of the slice written per pass: few enough pages for the TLB, a cache line's worth of reads. */
const ROW_BLOCK = 32;

/**
 * precision[:, :, categories, area] in numpy's order: entry ((t * R + r) * D + j) is the j-th
 * category's value (D categories, all with a curve there). A transposition, done in blocks of
 * rows: column by column over the whole slice touches a new page with every write.
 */
function precisionSlice(curves: readonly CategoryCurves[], area: number, categories: readonly number[], out: Float64Array): number {
  const d = categories.length;
  const columns = categories.map((c) => curves[c]!.byArea[area]!.precision);
  for (let from = 0; from < T * R; from += ROW_BLOCK) {
    const to = Math.min(from + ROW_BLOCK, T * R);
    for (let j = 0; j < d; j++) {
      const column = columns[j]!;
      for (let at = from; at < to; at++) out[at * d + j] = column[at]!;
    }
  }
  return d;
}

export function summarizeLvis(gt: LvisGroundTruthColumns, curves: readonly CategoryCurves[], selection: Selection): LvisEvaluation {
  const definedIn = (area: number) => curves.flatMap((curve, c) => (curve.byArea[area] ? [c] : []));
  // np.where(iou_thr == iou_thrs): exact comparison, as lvis-api does.
  const at50 = IOU_THRESHOLDS.indexOf(0.5);
  const at75 = IOU_THRESHOLDS.indexOf(0.75);
  const slice = new Float64Array(T * R * curves.length);
  const metrics: Record<string, number> = {};
  const n = selection.maxDets;
  for (let area = 0; area < AREA_LABELS.length; area++) {
    const categories = definedIn(area);
    const d = precisionSlice(curves, area, categories, slice);
    const label = area === 0 ? "" : AREA_LABELS[area]![0]!;
    metrics[`AP${label}`] = mean(slice, 0, T * R * d);
    if (area === 0) {
      // s[tidx]: one threshold's block, (recall point, category).
      metrics["AP50"] = at50 < 0 ? -1 : mean(slice, at50 * R * d, R * d);
      metrics["AP75"] = at75 < 0 ? -1 : mean(slice, at75 * R * d, R * d);
      // s[:, :, freq_groups[f], aidx]: the group's categories, ascending, in each (t, r) row.
      (["r", "c", "f"] as const).forEach((group, f) => {
        const members = categories.filter((c) => gt.frequency[c] === f);
        metrics[`AP${group}`] = mean(slice, 0, T * R * precisionSlice(curves, 0, members, slice));
      });
    }
    // recall[:, :, aidx]: (threshold, category).
    const recall = new Float64Array(T * categories.length);
    categories.forEach((c, j) => {
      const values = curves[c]!.byArea[area]!.recall;
      for (let t = 0; t < T; t++) recall[t * categories.length + j] = values[t]!;
    });
    metrics[area === 0 ? `AR@${n}` : `AR${label}@${n}`] = mean(recall, 0, recall.length);
  }
  // One category's AP: the same mean over its own precision[:, :, k, 0], (threshold, recall point).
  const perCategory = curves.map((curve) => {
    const all = curve.byArea[0];
    return {
      numGt: curve.numGt,
      numDets: curve.numDets,
      ap: all ? mean(all.precision, 0, T * R) : -1,
      ap50: all && at50 >= 0 ? mean(all.precision, at50 * R, R) : -1,
    };
  });
  return { metrics: ordered(metrics, n), perCategory };
}

/** The figures in lvis-api's results order. */
function ordered(metrics: Record<string, number>, n: number): Record<string, number> {
  const keys = ["AP", "AP50", "AP75", "APs", "APm", "APl", "APr", "APc", "APf", `AR@${n}`, `ARs@${n}`, `ARm@${n}`, `ARl@${n}`];
  return Object.fromEntries(keys.map((key) => [key, metrics[key]!]));
}
