/**
 * A COCO results list of mask detections `[{image_id, category_id, segmentation, score, bbox?}]`
 * for LVIS mask AP, streamed: ids resolved against the ground truth, each mask kept as its
 * compressed counts string (polygons and uncompressed RLE are rasterised at the image's size, as
 * lvis-api's ann_to_rle would), with both candidate areas, since which one lvis-api uses is only
 * known once the first detection of the whole run is (`detectionAreas`).
 */
import { InputError, childPath } from "../../core/errors.js";
import { Growable, concatTyped } from "../../core/growable.js";
import { PackedRlesBuilder, concatPacked, type PackedRles } from "../../compat/coco-mask/packed.js";
import { rleFromBox } from "../../compat/coco-mask/polygon.js";
import { readJson, type JsonReadSettings } from "../../json/reader.js";
import { cocoBoxProblem } from "../../json/validate.js";
import { checkSegmentation, packSegmentation } from "../segmentation.js";
import type { LvisGroundTruth } from "./annotations.js";
import { checkDetectionRecord, resolveDetection, type DetectionIds } from "./detections.js";

export interface MaskDetections extends DetectionIds {
  file: string;
  /** bbox w * h, NaN for a detection without `bbox`. */
  boxArea: Float64Array;
  /** 1 where the detection has a `segmentation` (its mask's pixel count is then masks.area). */
  segmented: Uint8Array;
  /** Each detection's mask; one without `segmentation` has its box as a polygon (LVISResults). */
  masks: PackedRles;
  /** Index (in this file's list) of each kept detection, for messages. */
  listIndex: Float64Array;
}

const LIST_EXPECTED = "expected a list of detections [{image_id, category_id, segmentation, score}, ...]";

type GroundTruthIndex = Pick<LvisGroundTruth, "imageIndex" | "categoryIndex" | "imageHeight" | "imageWidth">;

export async function readMaskDetections(file: string, gt: GroundTruthIndex, ignoreUnknownImages: boolean, settings: JsonReadSettings = {}): Promise<MaskDetections> {
  const { imageHeight, imageWidth } = gt;
  if (!imageHeight || !imageWidth) throw new Error("mask detections need the ground truth's image sizes");
  const image = new Growable(Int32Array, 1 << 16);
  const category = new Growable(Int32Array, 1 << 16);
  const score = new Growable(Float64Array, 1 << 16);
  const boxArea = new Growable(Float64Array, 1 << 16);
  const segmented = new Growable(Uint8Array, 1 << 16);
  const listIndex = new Growable(Float64Array, 1 << 16);
  const masks = new PackedRlesBuilder();
  const unknownImages = { count: 0, examples: [] as number[] };
  const result = await readJson(file, {
    "$.*": (value, key) => {
      if (typeof key === "string") throw new InputError(file, undefined, LIST_EXPECTED);
      const at = childPath("", key);
      const record = checkDetectionRecord(file, at, value);
      const box = record["bbox"];
      if (box !== undefined) {
        const problem = cocoBoxProblem(box);
        if (problem) throw new InputError(file, `${at}.bbox`, problem);
      }
      const segmentationValue = record["segmentation"];
      if (segmentationValue === undefined && box === undefined) throw new InputError(file, at, "expected a segmentation (or at least a bbox)");
      const ids = resolveDetection(file, at, record, gt, ignoreUnknownImages, unknownImages);
      if (!ids) return;
      const i = ids.image;
      const h = imageHeight[i]!, w = imageWidth[i]!;
      const b = box as number[] | undefined;
      // LVISResults: a box detection without segmentation becomes the polygon of its box. An RLE
      // of another size than its image's would never match (lvis-api's iou gives -1): refused.
      if (segmentationValue === undefined) masks.push(rleFromBox(b!, h, w));
      else packSegmentation(masks, file, `${at}.segmentation`, checkSegmentation(file, `${at}.segmentation`, segmentationValue), h, w);
      segmented.push(segmentationValue === undefined ? 0 : 1);
      image.push(i);
      category.push(ids.category);
      score.push(ids.score);
      boxArea.push(b ? b[2]! * b[3]! : NaN);
      listIndex.push(key);
    },
  }, settings);
  if (result.containers.get("$") !== "array") throw new InputError(file, undefined, LIST_EXPECTED);
  return {
    file,
    image: image.view(),
    category: category.view(),
    score: score.view(),
    boxArea: boxArea.view(),
    segmented: segmented.view(),
    masks: masks.build(),
    listIndex: listIndex.view(),
    unknownImages,
  };
}

/**
 * The detections of a run (its shards in order) with the area lvis-api gives each:
 * - standard AP (LVISResults): if the first detection has a `bbox`, every detection's area is its
 *   box's w * h (each must have one); otherwise its mask's pixel count (each must have a mask);
 * - fixed AP (large-vocab-devil's evaluate_ap_fixed.py --type segm drops every `bbox` first, see
 *   its commit 96d7bdc): always the mask's pixel count.
 */
export function detectionAreas(parts: readonly MaskDetections[], protocol: "standard" | "fixed"): { image: Int32Array; category: Int32Array; score: Float64Array; area: Float64Array; masks: PackedRles; byBox: boolean } {
  const first = parts.find((p) => p.score.length > 0);
  const byBox = protocol === "standard" && first !== undefined && !Number.isNaN(first.boxArea[0]);
  for (const part of parts) {
    const d = byBox ? part.boxArea.findIndex((v) => Number.isNaN(v)) : part.segmented.indexOf(0);
    if (d < 0) continue;
    const at = `[${part.listIndex[d]}]`;
    if (byBox) throw new InputError(part.file, `${at}.bbox`, `missing: the first detection (${first!.file} ${`[${first!.listIndex[0]}]`}) has a bbox, so lvis-api takes every detection's area from its bbox`);
    throw new InputError(part.file, `${at}.segmentation`, protocol === "fixed" ? "missing (fixed mask AP needs every detection's mask)" : "missing: the first detection has no bbox, so lvis-api takes every detection's area from its mask");
  }
  const masks = concatPacked(parts.map((d) => d.masks));
  return {
    image: concatTyped(Int32Array, parts.map((d) => d.image)),
    category: concatTyped(Int32Array, parts.map((d) => d.category)),
    score: concatTyped(Float64Array, parts.map((d) => d.score)),
    // Mask areas are the packed masks' own (every detection has a segmentation here).
    area: byBox ? concatTyped(Float64Array, parts.map((d) => d.boxArea)) : masks.area,
    masks,
    byBox,
  };
}
