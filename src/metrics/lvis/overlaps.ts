/**
 * LVISEval.compute_iou for one (category, image): box IoU (`bbox`) or mask IoU (`segm`), both
 * pycocotools' `iou` with iscrowd = 0 for every ground truth (lvis-api never passes a crowd flag).
 * Rows are detections in evaluation order, columns ground truth in file order.
 */
import { unpackRle } from "../../compat/coco-mask/packed.js";
import { rleIous } from "../../compat/coco-mask/rle.js";
import type { DetectionColumns, IouType, LvisGroundTruthColumns } from "./columns.js";
import { boxIous } from "./match.js";

export type Overlaps = (dets: readonly number[], gts: readonly number[]) => Float64Array;

export function overlapsFor(iouType: IouType, gt: LvisGroundTruthColumns, dets: DetectionColumns): Overlaps {
  if (iouType === "bbox") return (d, g) => boxIous(d, dets.bbox, g, gt.annotations.bbox);
  const gtMasks = gt.annotations.masks;
  const detMasks = dets.masks;
  if (!gtMasks || !detMasks) throw new Error("segm evaluation needs the masks of the ground truth and of the detections");
  // Every detection and ground truth belongs to one (category, image): each is decoded once.
  return (d, g) => (d.length === 0 || g.length === 0 ? new Float64Array(0) : rleIous(d.map((i) => unpackRle(detMasks, i)), g.map((i) => unpackRle(gtMasks, i))));
}
