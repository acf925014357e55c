/**
 * LVISEval.summarize over every category's curves: each figure is np.mean(s[s > -1]) of a slice s
 * of the precision array [T, R, K, A] (recall: [T, K, A]), so the defined values are summed in
 * numpy's flattening order (threshold, recall point, category) as numpy sums (compat/numpy.ts
 * addReduce), which makes the figures the same doubles as lvis-api's, not merely close.
 */
import { addReduce, addReduceOf } from "../../compat/numpy.js";
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

/** Categories in one band of the copy. */
const BAND = 16;

/**
 * A slice of one area's precision [T, R, categories] or recall [T, categories] as numpy flattens
 * it, (row, category), from one array per category (`columns`, each `rows` long), written into
 * `into` (a buffer the areas share): the means over all its categories are then contiguous runs,
 * read once each. Copied 16 categories at a time, row after row: 2 ms an area on bench lvis
 * --images 1000 (a new matrix an area, copied in 64 x 64 tiles: 8.6 ms; gathered value by value
 * from 1,203 curves for each mean: 70 ms in all).
 */
function columnsMatrix(columns: readonly Float64Array[], rows: number, into: Float64Array): Float64Array {
  const d = columns.length;
  for (let j0 = 0; j0 < d; j0 += BAND) {
    const band = columns.slice(j0, j0 + BAND);
    for (let r = 0; r < rows; r++) {
      const row = r * d + j0;
      for (let j = 0; j < band.length; j++) into[row + j] = band[j]![r]!;
    }
  }
  return into.subarray(0, rows * d);
}

/** np.mean over the `rows` rows of a (row, category) matrix of d columns, at the `picked` columns (ascending). */
function meanOfPicked(matrix: Float64Array, d: number, picked: readonly number[], rows: number): number {
  const k = picked.length;
  const n = rows * k;
  if (n === 0) return -1;
  return addReduceOf(n, (chunk, start, length) => {
    let row = Math.floor(start / k);
    let j = start % k;
    for (let i = 0; i < length; row++, j = 0) {
      const end = Math.min(k, j + length - i);
      for (; j < end; j++) chunk[i++] = matrix[row * d + picked[j]!]!;
    }
  }) / n;
}

export function summarizeLvis(gt: LvisGroundTruthColumns, curves: readonly CategoryCurves[], selection: Selection): LvisEvaluation {
  const definedIn = (area: number) => curves.flatMap((curve, c) => (curve.byArea[area] ? [c] : []));
  // np.where(iou_thr == iou_thrs): exact comparison, as lvis-api does.
  const at50 = IOU_THRESHOLDS.indexOf(0.5);
  const at75 = IOU_THRESHOLDS.indexOf(0.75);
  const metrics: Record<string, number> = {};
  const n = selection.maxDets;
  const matrix = new Float64Array(T * R * curves.length);
  for (let area = 0; area < AREA_LABELS.length; area++) {
    const categories = definedIn(area);
    const label = area === 0 ? "" : AREA_LABELS[area]![0]!;
    const d = categories.length;
    const precision = columnsMatrix(categories.map((c) => curves[c]!.byArea[area]!.precision), T * R, matrix);
    metrics[`AP${label}`] = mean(precision, 0, T * R * d);
    if (area === 0) {
      // s[tidx]: one threshold's rows.
      metrics["AP50"] = at50 < 0 ? -1 : mean(precision, at50 * R * d, R * d);
      metrics["AP75"] = at75 < 0 ? -1 : mean(precision, at75 * R * d, R * d);
      // s[:, :, freq_groups[f], aidx]: the group's categories, ascending.
      (["r", "c", "f"] as const).forEach((group, f) => {
        const picked = categories.flatMap((c, j) => (gt.frequency[c] === f ? [j] : []));
        metrics[`AP${group}`] = meanOfPicked(precision, d, picked, T * R);
      });
    }
    // recall[:, :, aidx]: (threshold, category).
    metrics[area === 0 ? `AR@${n}` : `AR${label}@${n}`] = mean(columnsMatrix(categories.map((c) => curves[c]!.byArea[area]!.recall), T, matrix), 0, T * d);
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
