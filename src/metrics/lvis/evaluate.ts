/**
 * LVIS box or mask AP as lvis-api's LVISEval (iou_type "bbox" / "segm") computes it, standard or
 * fixed (MDETR's LvisEvaluatorFixedAP; for masks large-vocab-devil's evaluate_ap_fixed.py): select the detections, match them per (category, image) and area range,
 * accumulate per (category, area range), then average as LVISEval.summarize does. Pure: typed
 * arrays in, named numbers out.
 */
import { accumulateCategory, type CategoryCurves } from "./category.js";
import type { DetectionColumns, IouType, LvisGroundTruthColumns } from "./columns.js";
import { overlapsFor } from "./overlaps.js";
import { groupBy, selectDetections, type Selection } from "./select.js";

export type { DetectionColumns, IouType, LvisGroundTruthColumns } from "./columns.js";
import { AREA_LABELS, IOU_THRESHOLDS, RECALL_THRESHOLDS } from "./match.js";

export interface LvisEvaluation {
  /** AP, AP50, AP75, APs, APm, APl, APr, APc, APf, AR@N, ARs@N, ARm@N, ARl@N; -1 = nothing to average. */
  metrics: Record<string, number>;
  perCategory: { numGt: number; numDets: number; ap: number; ap50: number }[];
}

/**
 * Mean of the values > -1, or -1 when there are none (LVISEval._summarize: np.mean(s[s > -1])),
 * summed in order over the parts, one after the other.
 */
function meanOfDefined(...parts: readonly Float64Array[]): number {
  let sum = 0;
  let count = 0;
  for (const values of parts) {
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (v > -1) {
        sum += v;
        count++;
      }
    }
  }
  return count ? sum / count : -1;
}

export function evaluateLvis(gt: LvisGroundTruthColumns, dets: DetectionColumns, selection: Selection, iouType: IouType = "bbox"): LvisEvaluation {
  return summarizeLvis(gt, joinShares([evaluateCategories(gt, dets, selection, iouType, { part: 0, parts: 1 })]), selection);
}

/** Every category's curves from the shares of all parts. */
export function joinShares(shares: readonly (readonly (CategoryCurves | undefined)[])[]): CategoryCurves[] {
  const categories = shares[0]?.length ?? 0;
  return Array.from({ length: categories }, (_, c) => {
    const curve = shares.map((share) => share[c]).find((x) => x !== undefined);
    if (!curve) throw new Error(`no share evaluated category ${c}`);
    return curve;
  });
}

/** Categories c with c % parts === part: a share of the work for one thread. */
export interface CategoryShare {
  part: number;
  parts: number;
}

/**
 * The curves of the categories of `share` (undefined for the others): categories are independent
 * once the detections are selected, so threads can take a share each and the results be joined.
 */
export function evaluateCategories(gt: LvisGroundTruthColumns, dets: DetectionColumns, selection: Selection, iouType: IouType, share: CategoryShare): (CategoryCurves | undefined)[] {
  const { imageCount, categoryCount } = gt;
  const a = gt.annotations;
  // get_ann_ids keeps annotations with 0 < area < inf; those make a category positive for an image.
  const gtKeep = Int32Array.from({ length: a.area.length }, (_, g) => (a.area[g]! > 0 && a.area[g]! < Infinity ? 1 : 0));
  const positive = new Set<number>();
  a.image.forEach((img, g) => {
    if (gtKeep[g]) positive.add(img * categoryCount + a.category[g]!);
  });
  const selected = selectDetections(dets, imageCount, categoryCount, (img, c) => positive.has(img * categoryCount + c) || gt.negative.has(img * categoryCount + c), selection);

  // Group ground truth and detections by category, then by image (both stable: file order inside).
  const gtIndices = Int32Array.from({ length: a.area.length }, (_, g) => g).filter((g) => gtKeep[g]);
  const gtByCategory = groupRows(gtIndices, a.category, a.image, categoryCount);
  const detByCategory = groupRows(selected, dets.category, dets.image, categoryCount);

  const overlaps = overlapsFor(iouType, gt, dets);
  const curves: (CategoryCurves | undefined)[] = [];
  for (let c = 0; c < categoryCount; c++) {
    curves.push(c % share.parts === share.part ? accumulateCategory(c, gt, dets, gtByCategory.rows(c), detByCategory.rows(c), overlaps) : undefined);
  }
  return curves;
}

/** Rows of one category, grouped by image index ascending. */
interface Grouped {
  rows(category: number): Map<number, number[]>;
}

function groupRows(indices: Int32Array, category: Int32Array, image: Int32Array, categoryCount: number): Grouped {
  const categoryOf = Int32Array.from(indices, (i) => category[i]!);
  const { start, order } = groupBy(categoryOf, categoryCount);
  return {
    rows(c: number) {
      const byImage = new Map<number, number[]>();
      const members = Array.from(order.subarray(start[c]!, start[c + 1]!), (k) => indices[k]!);
      // Sorting by image keeps file order inside an image (Array.prototype.sort is stable).
      members.sort((x, y) => image[x]! - image[y]!);
      for (const m of members) {
        const list = byImage.get(image[m]!);
        if (list) list.push(m);
        else byImage.set(image[m]!, [m]);
      }
      return byImage;
    },
  };
}

/** LVISEval.summarize over every category's curves (in category order). */
export function summarizeLvis(gt: LvisGroundTruthColumns, curves: readonly CategoryCurves[], selection: Selection): LvisEvaluation {
  const R = RECALL_THRESHOLDS.length;
  // The precision values of the selected categories, thresholds and area, in lvis-api's order
  // (category, threshold, recall point); a category without ground truth there has only -1s.
  const precisionValues = (filter: { t?: number; area: number; categories?: (c: number) => boolean }): Float64Array[] => {
    const parts: Float64Array[] = [];
    for (let c = 0; c < curves.length; c++) {
      if (filter.categories && !filter.categories(c)) continue;
      const curve = curves[c]!.byArea[filter.area];
      if (curve) parts.push(filter.t === undefined ? curve.precision : curve.precision.subarray(filter.t * R, (filter.t + 1) * R));
    }
    return parts;
  };
  const recallValues = (area: number): Float64Array[] => curves.flatMap((categoryCurves) => {
    const curve = categoryCurves.byArea[area];
    return curve ? [curve.recall] : [];
  });
  // np.where(iou_thr == iou_thrs): exact comparison, as lvis-api does.
  const at = (threshold: number) => IOU_THRESHOLDS.indexOf(threshold);
  const ap = (filter: { t?: number; area: number; categories?: (c: number) => boolean }) => (filter.t === -1 ? -1 : meanOfDefined(...precisionValues(filter)));
  // Both protocols name recall AR@300 (MDETR's fixed-AP results are reported under lvis-api's keys).
  const n = selection.maxDets;
  const metrics: Record<string, number> = {
    AP: ap({ area: 0 }),
    AP50: ap({ t: at(0.5), area: 0 }),
    AP75: ap({ t: at(0.75), area: 0 }),
    APs: ap({ area: 1 }),
    APm: ap({ area: 2 }),
    APl: ap({ area: 3 }),
    APr: ap({ area: 0, categories: (c) => gt.frequency[c] === 0 }),
    APc: ap({ area: 0, categories: (c) => gt.frequency[c] === 1 }),
    APf: ap({ area: 0, categories: (c) => gt.frequency[c] === 2 }),
  };
  AREA_LABELS.forEach((label, area) => {
    metrics[area === 0 ? `AR@${n}` : `AR${label[0]}@${n}`] = meanOfDefined(...recallValues(area));
  });
  // One category's AP reads its own curve alone (the same values, in the same order, as the
  // filtered walk above, without visiting every other category for each one).
  const categoryAp = (curve: CategoryCurves, t?: number) => {
    const all = curve.byArea[0];
    if (!all || t === -1) return -1;
    return meanOfDefined(t === undefined ? all.precision : all.precision.subarray(t * R, (t + 1) * R));
  };
  const perCategory = curves.map((curve) => ({
    numGt: curve.numGt,
    numDets: curve.numDets,
    ap: categoryAp(curve),
    ap50: categoryAp(curve, at(0.5)),
  }));
  return { metrics, perCategory };
}
