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

/**
 * np.mean over `rows` rows from `from` of a slice whose columns are `columns` (one array per
 * category, the categories all defined there), or -1 for none: numpy flattens such a slice as
 * (row, category), and that run is gathered a reduction chunk at a time.
 */
function meanOfColumns(columns: readonly Float64Array[], from: number, rows: number): number {
  const d = columns.length;
  const n = rows * d;
  if (n === 0) return -1;
  return (
    addReduceOf(n, (chunk, start, length) => {
      let row = from + Math.floor(start / d);
      let j = start % d;
      for (let i = 0; i < length; row++, j = 0) {
        const end = Math.min(d, j + length - i);
        for (; j < end; j++) chunk[i++] = columns[j]![row]!;
      }
    }) / n
  );
}

/** np.mean(s[s > -1]) for s = precision[rows, :, categories, area], rows of (threshold, recall point). */
function meanOfSlice(curves: readonly CategoryCurves[], area: number, categories: readonly number[], from: number, rows: number): number {
  return meanOfColumns(categories.map((c) => curves[c]!.byArea[area]!.precision), from, rows);
}

export function summarizeLvis(gt: LvisGroundTruthColumns, curves: readonly CategoryCurves[], selection: Selection): LvisEvaluation {
  const definedIn = (area: number) => curves.flatMap((curve, c) => (curve.byArea[area] ? [c] : []));
  // np.where(iou_thr == iou_thrs): exact comparison, as lvis-api does.
  const at50 = IOU_THRESHOLDS.indexOf(0.5);
  const at75 = IOU_THRESHOLDS.indexOf(0.75);
  const metrics: Record<string, number> = {};
  const n = selection.maxDets;
  for (let area = 0; area < AREA_LABELS.length; area++) {
    const categories = definedIn(area);
    const label = area === 0 ? "" : AREA_LABELS[area]![0]!;
    metrics[`AP${label}`] = meanOfSlice(curves, area, categories, 0, T * R);
    if (area === 0) {
      // s[tidx]: one threshold's rows.
      metrics["AP50"] = at50 < 0 ? -1 : meanOfSlice(curves, 0, categories, at50 * R, R);
      metrics["AP75"] = at75 < 0 ? -1 : meanOfSlice(curves, 0, categories, at75 * R, R);
      // s[:, :, freq_groups[f], aidx]: the group's categories, ascending.
      (["r", "c", "f"] as const).forEach((group, f) => {
        metrics[`AP${group}`] = meanOfSlice(curves, 0, categories.filter((c) => gt.frequency[c] === f), 0, T * R);
      });
    }
    // recall[:, :, aidx]: (threshold, category).
    metrics[area === 0 ? `AR@${n}` : `AR${label}@${n}`] = meanOfColumns(categories.map((c) => curves[c]!.byArea[area]!.recall), 0, T);
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
