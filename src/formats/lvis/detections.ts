/**
 * A COCO results list of box detections `[{image_id, category_id, bbox: [x, y, w, h], score}]`,
 * streamed into typed arrays with ids resolved against the ground truth. A 10 M detection file
 * takes about 48 bytes per detection.
 */
import { InputError, childPath } from "../../core/errors.js";
import { Growable } from "../../core/growable.js";
import { readJson, type JsonReadSettings } from "../../json/reader.js";
import type { LvisGroundTruth } from "./annotations.js";
import { cocoBoxProblem, finiteNumberProblem, integerProblem, isRecord, objectProblem } from "../../json/validate.js";

/** What every LVIS results reader keeps: per detection, in file order, image and category indices and score. */
export interface DetectionIds {
  image: Int32Array;
  category: Int32Array;
  score: Float64Array;
  /** Detections whose image is not in the ground truth (kept out under --ignore-unknown-images). */
  unknownImages: { count: number; examples: number[] };
}

export interface Detections extends DetectionIds {
  /** [x, y, w, h] per detection. */
  bbox: Float64Array;
}

const LIST_EXPECTED = "expected a list of detections [{image_id, category_id, bbox, score}, ...]";

/** A detection's object with the fields every LVIS detection has: integer ids, a finite score. */
export function checkDetectionRecord(file: string, at: string, value: unknown): Record<string, unknown> {
  if (!isRecord(value)) throw new InputError(file, at, objectProblem(value) ?? "");
  for (const field of ["image_id", "category_id", "score"] as const) {
    const problem = field === "score" ? finiteNumberProblem(value[field]) : integerProblem(value[field]);
    if (problem) throw new InputError(file, `${at}.${field}`, problem);
  }
  return value;
}

/**
 * A checked detection's image and category as indices; undefined for a detection of an image the
 * ground truth lacks (counted in `unknownImages`), which is an error unless `ignoreUnknownImages`.
 */
export function resolveDetection(
  file: string,
  at: string,
  value: Record<string, unknown>,
  gt: Pick<LvisGroundTruth, "imageIndex" | "categoryIndex">,
  ignoreUnknownImages: boolean,
  unknownImages: { count: number; examples: number[] },
): { image: number; category: number; score: number } | undefined {
  const imageId = value["image_id"] as number;
  const image = gt.imageIndex.get(imageId);
  if (image === undefined) {
    if (!ignoreUnknownImages) throw new InputError(file, `${at}.image_id`, `no image with id ${imageId} in the ground truth (--ignore-unknown-images skips such detections)`);
    unknownImages.count++;
    if (unknownImages.examples.length < 5) unknownImages.examples.push(imageId);
    return undefined;
  }
  const category = gt.categoryIndex.get(value["category_id"] as number);
  if (category === undefined) throw new InputError(file, `${at}.category_id`, `no category with id ${value["category_id"]} in the ground truth`);
  return { image, category, score: value["score"] as number };
}

export async function readDetections(file: string, gt: Pick<LvisGroundTruth, "imageIndex" | "categoryIndex">, ignoreUnknownImages: boolean, settings: JsonReadSettings = {}): Promise<Detections> {
  const image = new Growable(Int32Array, 1 << 16);
  const category = new Growable(Int32Array, 1 << 16);
  const bbox = new Growable(Float64Array, 1 << 18);
  const score = new Growable(Float64Array, 1 << 16);
  const unknownImages = { count: 0, examples: [] as number[] };
  const result = await readJson(file, {
    "$.*": (value, key) => {
      if (typeof key === "string") throw new InputError(file, undefined, LIST_EXPECTED);
      const at = childPath("", key);
      const record = checkDetectionRecord(file, at, value);
      const boxProblem = cocoBoxProblem(record["bbox"]);
      if (boxProblem) throw new InputError(file, `${at}.bbox`, boxProblem);
      const ids = resolveDetection(file, at, record, gt, ignoreUnknownImages, unknownImages);
      if (!ids) return;
      image.push(ids.image);
      category.push(ids.category);
      for (const v of record["bbox"] as number[]) bbox.push(v);
      score.push(ids.score);
    },
  }, settings);
  if (result.containers.get("$") !== "array") throw new InputError(file, undefined, LIST_EXPECTED);
  return { image: image.view(), category: category.view(), bbox: bbox.view(), score: score.view(), unknownImages };
}
