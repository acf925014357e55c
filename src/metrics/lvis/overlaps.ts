/**
 * LVISEval.compute_iou for one (category, image): box IoU (`bbox`) or mask IoU (`segm`), both
 * pycocotools' `iou` with iscrowd = 0 for every ground truth (lvis-api never passes a crowd flag).
 * Rows are detections in evaluation order, columns ground truth in file order.
 */
import { unpackRle, type PackedRles } from "../../compat/coco-mask/packed.js";
import { boxIntersection, maskIou, type Rle } from "../../compat/coco-mask/rle.js";
import type { DetectionColumns, IouType, LvisGroundTruthColumns } from "./columns.js";
import { IOU_THRESHOLDS, boxIous } from "./match.js";

/** The IoUs of a (category, image): valid until the next call, which may reuse the array. */
export type Overlaps = (dets: Int32Array, gts: Int32Array) => Float64Array;

export function overlapsFor(iouType: IouType, gt: LvisGroundTruthColumns, dets: DetectionColumns): Overlaps {
  if (iouType === "bbox") {
    let ious: Float64Array = new Float64Array(1024);
    return (d, g) => (ious = boxIous(d, dets.bbox, g, gt.annotations.bbox, ious));
  }
  const gtMasks = gt.annotations.masks;
  const detMasks = dets.masks;
  if (!gtMasks || !detMasks) throw new Error("segm evaluation needs the masks of the ground truth and of the detections");
  // One scratch for the detection being compared: its counts live there while it meets each ground truth.
  let longest = 0;
  for (const length of detMasks.length) longest = Math.max(longest, length);
  const scratch = new Uint32Array(longest);
  return (d, g) => maskIous(d, detMasks, g, gtMasks, scratch);
}

/** Matching (evaluate_img) takes a ground truth only at IoU >= the lowest threshold. */
const LOWEST_THRESHOLD = IOU_THRESHOLDS[0]!;

/**
 * rleIou's rule: a pair gets a mask IoU only when the masks' boxes overlap (box IoU > 0, that is a
 * box intersection of positive width and height). The boxes and areas were taken when the masks
 * were read, which bounds the IoU before any decoding: I <= min(area D, area G, box intersection)
 * and I / (aD + aG - I) grows with I. A pair whose bound is under the lowest matching threshold is
 * left at 0: evaluate_img never matches it, and the IoU is used for nothing else (division is
 * correctly rounded, so the rounded bound bounds the rounded IoU). A mask is then decoded only if
 * some pair needs it, and once.
 */
function maskIous(dets: Int32Array, detMasks: PackedRles, gts: Int32Array, gtMasks: PackedRles, scratch: Uint32Array): Float64Array {
  const n = gts.length;
  const out = new Float64Array(dets.length * n);
  if (n === 0) return out;
  const gtRles: (Rle | undefined)[] = new Array<Rle | undefined>(n);
  dets.forEach((d, i) => {
    let dt: Rle | undefined;
    const aD = detMasks.area[d]!;
    for (let j = 0; j < n; j++) {
      const g = gts[j]!;
      const overlap = boxIntersection(detMasks.box, d, gtMasks.box, g);
      if (overlap === 0) continue;
      const aG = gtMasks.area[g]!;
      const most = Math.min(aD, aG, overlap);
      if (most / (aD + aG - most) < LOWEST_THRESHOLD) continue;
      dt ??= unpackRle(detMasks, d, scratch);
      const gtRle = (gtRles[j] ??= unpackRle(gtMasks, g));
      out[i * n + j] = maskIou(dt, gtRle);
    }
  });
  return out;
}
