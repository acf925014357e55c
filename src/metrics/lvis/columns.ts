/** The plain data LVIS evaluation works on: ground truth and detections as typed columns. */
import type { PackedRles } from "../../compat/coco-mask/packed.js";

/** What a detection is compared by: its box (LVISEval iou_type "bbox") or its mask ("segm"). */
export type IouType = "bbox" | "segm";

export interface LvisGroundTruthColumns {
  imageCount: number;
  categoryCount: number;
  /** 0 rare, 1 common, 2 frequent, per category index. */
  frequency: Uint8Array;
  /** image index * categoryCount + category index. */
  negative: ReadonlySet<number>;
  notExhaustive: ReadonlySet<number>;
  annotations: {
    image: Int32Array;
    category: Int32Array;
    bbox: Float64Array;
    /** The `area` field: it decides the 0 < area filter and the area ranges, in both IoU types. */
    area: Float64Array;
    id: Float64Array;
    ignore: Uint8Array;
    /** segm: each annotation's mask at its image's size. */
    masks?: PackedRles;
  };
}

/** Box detections in file order: image and category indices, [x, y, w, h], score. */
export interface BoxDetections {
  image: Int32Array;
  category: Int32Array;
  bbox: Float64Array;
  score: Float64Array;
}

/** Detections as LVISEval sees them: file order, with the area lvis-api gives each. */
export interface DetectionColumns extends BoxDetections {
  /**
   * The area lvis-api gives the detection (`ann["area"]`): w * h of its box, or in segm mode the
   * box's or the mask's, as LVISResults decides. It filters (0 < area < inf) and sorts into ranges.
   */
  area: Float64Array;
  /** segm: each detection's mask. */
  masks?: PackedRles;
}

/** `ann["area"] = bb[2] * bb[3]` of LVISResults for box detections. */
export function boxAreas(bbox: Float64Array): Float64Array {
  // Shared memory when the boxes are, so that evaluation threads read both without a copy.
  const count = bbox.length / 4;
  const area = bbox.buffer instanceof SharedArrayBuffer ? new Float64Array(new SharedArrayBuffer(8 * count)) : new Float64Array(count);
  for (let d = 0; d < area.length; d++) area[d] = bbox[4 * d + 2]! * bbox[4 * d + 3]!;
  return area;
}
