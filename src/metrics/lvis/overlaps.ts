/**
 * LVISEval.compute_iou for one (category, image): box IoU (`bbox`) or mask IoU (`segm`), both
 * pycocotools' `iou` with iscrowd = 0 for every ground truth (lvis-api never passes a crowd flag).
 * Rows are detections in evaluation order, columns ground truth in file order.
 */
import { unpackRle, type PackedRles } from "../../compat/coco-mask/packed.js";
import { boxIou, maskIou, type Rle } from "../../compat/coco-mask/rle.js";
import type { DetectionColumns, IouType, LvisGroundTruthColumns } from "./columns.js";
import { boxIous } from "./match.js";

export type Overlaps = (dets: readonly number[], gts: readonly number[]) => Float64Array;

export function overlapsFor(iouType: IouType, gt: LvisGroundTruthColumns, dets: DetectionColumns): Overlaps {
  if (iouType === "bbox") return (d, g) => boxIous(d, dets.bbox, g, gt.annotations.bbox);
  const gtMasks = gt.annotations.masks;
  const detMasks = dets.masks;
  if (!gtMasks || !detMasks) throw new Error("segm evaluation needs the masks of the ground truth and of the detections");
  // One scratch for the detection being compared: its counts live there while it meets each ground truth.
  let longest = 0;
  for (let i = 0; i < detMasks.h.length; i++) longest = Math.max(longest, detMasks.start[i + 1]! - detMasks.start[i]!);
  const scratch = new Uint32Array(longest);
  return (d, g) => maskIous(d, detMasks, g, gtMasks, scratch);
}

/**
 * rleIou's rule: a pair gets a mask IoU only when the masks' boxes overlap (box IoU > 0). The boxes
 * were taken when the masks were read, so a mask is decoded only if some pair needs it (most
 * detections of an image overlap no ground truth of their category), and then once.
 */
function maskIous(dets: readonly number[], detMasks: PackedRles, gts: readonly number[], gtMasks: PackedRles, scratch: Uint32Array): Float64Array {
  const n = gts.length;
  const out = new Float64Array(dets.length * n);
  if (n === 0) return out;
  const gtRles: (Rle | undefined)[] = new Array<Rle | undefined>(n);
  dets.forEach((d, i) => {
    let dt: Rle | undefined;
    for (let j = 0; j < n; j++) {
      const g = gts[j]!;
      if (!(boxIou(detMasks.box, d, gtMasks.box, g) > 0)) continue;
      dt ??= unpackRle(detMasks, d, scratch);
      const gtRle = (gtRles[j] ??= unpackRle(gtMasks, g));
      out[i * n + j] = maskIou(dt, gtRle);
    }
  });
  return out;
}
