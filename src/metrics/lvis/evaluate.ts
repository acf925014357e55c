/**
 * LVIS box or mask AP as lvis-api's LVISEval (iou_type "bbox" / "segm") computes it, standard or
 * fixed (MDETR's LvisEvaluatorFixedAP; for masks large-vocab-devil's evaluate_ap_fixed.py): select the detections, match them per (category, image) and area range,
 * accumulate per (category, area range), then average as LVISEval.summarize does. Pure: typed
 * arrays in, named numbers out.
 */
import { arrangeByCategory, rankWithinImages } from "./arrange.js";
import { CategoryScratch, accumulateCategory, type CategoryCurves } from "./category.js";
import type { DetectionColumns, IouType, LvisGroundTruthColumns } from "./columns.js";
import { overlapsFor } from "./overlaps.js";
import { ImageCategoryPairs, selectDetections, type Selection } from "./select.js";
import { summarizeLvis, type LvisEvaluation } from "./summarize.js";

export type { DetectionColumns, IouType, LvisGroundTruthColumns } from "./columns.js";
export { summarizeLvis, type LvisEvaluation } from "./summarize.js";

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
  // The pairs a detection counts for: the image has the category in its ground truth (the
  // annotations get_ann_ids keeps, 0 < area < inf) or in its neg_category_ids.
  const counts = new ImageCategoryPairs(categoryCount, imageCount);
  const kept: number[] = [];
  for (let g = 0; g < a.area.length; g++) {
    if (!(a.area[g]! > 0 && a.area[g]! < Infinity)) continue;
    kept.push(g);
    counts.add(a.image[g]!, a.category[g]!);
  }
  for (const key of gt.negative) counts.add(Math.floor(key / categoryCount), key % categoryCount);
  const selected = selectDetections(dets, imageCount, categoryCount, (img, c) => counts.has(img, c), selection);

  // Ground truth and detections by category, then by image (file order inside), detections
  // ranked inside each image.
  const gtIndices = Int32Array.from(kept);
  const gtRows = arrangeByCategory(gtIndices, a.category, a.image, imageCount, categoryCount);
  const detRows = arrangeByCategory(selected, dets.category, dets.image, imageCount, categoryCount);
  rankWithinImages(detRows, dets.image, dets.score);

  const overlaps = overlapsFor(iouType, gt, dets);
  const scratch = new CategoryScratch(Math.ceil(categoryCount / share.parts));
  const curves: (CategoryCurves | undefined)[] = [];
  for (let c = 0; c < categoryCount; c++) {
    if (c % share.parts !== share.part) {
      curves.push(undefined);
      continue;
    }
    const gts = gtRows.order.subarray(gtRows.start[c]!, gtRows.start[c + 1]!);
    const ranked = detRows.order.subarray(detRows.start[c]!, detRows.start[c + 1]!);
    curves.push(accumulateCategory(c, gt, dets, gts, ranked, overlaps, scratch));
  }
  return curves;
}
