/**
 * Reader for MDETR's referring-expression fine-tuning annotations (`finetune_refcoco_testA.json`
 * and friends): a COCO json whose every `images[]` entry is one expression with exactly one
 * ground-truth box in `annotations[]`.
 */
import { basename, extname } from "node:path";
import { InputError, childPath } from "../../core/errors.js";
import { expectArrayContainer, readJson, type JsonReadSettings } from "../../json/reader.js";
import type { JsonKey } from "../../json/selectors.js";
import { checkCocoAnnotation } from "../coco.js";
import { describeJsonValue, integerProblem, isRecord, objectProblem } from "../../json/validate.js";

export interface RefexpGroundTruth {
  /** Image (= expression) ids in file order, as the text of the JSON number. */
  imageIds: string[];
  /** Image id text -> expression index. */
  indexOfImageId: Map<string, number>;
  /** Bucket names (the `dataset_name` values), sorted. */
  datasetNames: string[];
  /** Per expression, an index into `datasetNames`. */
  datasetOf: Uint32Array;
  /** Per expression, the target box as [x1, y1, x2, y2] = [x, y, x + w, y + h], in float64. */
  targetBoxes: Float64Array;
}

/**
 * An `images[]` entry, which is one expression: an object with an integer `id` not seen before (in
 * `indexOfId`, id text -> index) and, if any, a string `dataset_name`.
 */
export function checkExpressionImage(file: string, key: JsonKey, image: unknown, indexOfId: ReadonlyMap<string, number>): { at: string; record: Record<string, unknown>; id: string; datasetName: string | undefined } {
  const at = childPath("images", key);
  if (!isRecord(image)) throw new InputError(file, at, objectProblem(image) ?? "");
  const idProblem = integerProblem(image["id"]);
  if (idProblem) throw new InputError(file, `${at}.id`, idProblem);
  const id = String(image["id"]);
  if (indexOfId.has(id)) throw new InputError(file, `${at}.id`, `duplicate image id ${id} (also images[${indexOfId.get(id)}])`);
  const datasetName = image["dataset_name"];
  if (datasetName !== undefined && typeof datasetName !== "string") throw new InputError(file, `${at}.dataset_name`, `expected a string, got ${describeJsonValue(datasetName)}`);
  return { at, record: image, id, datasetName };
}

export async function readRefexpAnnotations(file: string, settings: JsonReadSettings = {}): Promise<RefexpGroundTruth> {
  // MDETR's files carry `dataset_name`; files without it are one bucket named after the file.
  const fileBucket = basename(file, extname(file));
  const imageIds: string[] = [];
  const indexOfImageId = new Map<string, number>();
  const bucketOf: string[] = [];
  const boxes: number[][] = [];
  const annotationOf: number[] = [];

  const result = await readJson(file, {
    "$.images.*": (image, key) => {
      const { id: idText, datasetName } = checkExpressionImage(file, key, image, indexOfImageId);
      indexOfImageId.set(idText, imageIds.length);
      imageIds.push(idText);
      bucketOf.push(datasetName ?? fileBucket);
    },
    "$.annotations.*": (value, key) => {
      const { imageId, bbox } = checkCocoAnnotation(file, key, value);
      const [x, y, w, h] = bbox;
      // Mirrors refexp.py: [x, y, x + w, y + h] computed in Python floats.
      boxes.push([x, y, x + w, y + h]);
      annotationOf.push(imageId);
    },
  }, settings);
  expectArrayContainer(file, "$.images", result.containers.get("$.images"));
  expectArrayContainer(file, "$.annotations", result.containers.get("$.annotations"));

  const n = imageIds.length;
  const targetBoxes = new Float64Array(4 * n);
  const annotationCount = new Uint32Array(n);
  annotationOf.forEach((imageId, a) => {
    const e = indexOfImageId.get(String(imageId));
    if (e === undefined) throw new InputError(file, `annotations[${a}].image_id`, `no image with id ${imageId} in images[]`);
    annotationCount[e]! += 1;
    targetBoxes.set(boxes[a]!, 4 * e);
  });
  // refexp.py asserts one box per expression; say which expression breaks that.
  const wrong = [...annotationCount.keys()].filter((e) => annotationCount[e] !== 1);
  if (wrong.length > 0) {
    const e = wrong[0]!;
    throw new InputError(
      file,
      `images[${e}]`,
      `expected exactly one annotation for image id ${imageIds[e]}, found ${annotationCount[e]}` +
        (wrong.length > 1 ? ` (${wrong.length} images have this problem)` : ""),
    );
  }

  const datasetNames = [...new Set(bucketOf)].sort();
  const datasetIndex = new Map(datasetNames.map((name, i) => [name, i]));
  const datasetOf = Uint32Array.from(bucketOf, (name) => datasetIndex.get(name)!);
  return { imageIds, indexOfImageId, datasetNames, datasetOf, targetBoxes };
}

/** One referring expression to run a model on: its `images[]` entry. */
export interface RefexpQuery {
  /** `images[].id` as text: the key of MDETR's prediction dict. */
  id: string;
  fileName: string;
  caption: string;
  /** The picture's COCO id (`original_id`), when the file has one. */
  pictureId: number | undefined;
}

/** The expressions of an annotation file, in file order (for `infer refcoco`). */
export async function readRefexpQueries(file: string, settings: JsonReadSettings = {}): Promise<RefexpQuery[]> {
  const queries: RefexpQuery[] = [];
  const seen = new Map<string, number>();
  const result = await readJson(file, {
    "$.images.*": (image, key) => {
      const at = childPath("images", key);
      const problem = objectProblem(image);
      if (problem) throw new InputError(file, at, problem);
      const { id, file_name: fileName, caption, original_id: pictureId } = image as Record<string, unknown>;
      const idProblem = integerProblem(id);
      if (idProblem) throw new InputError(file, `${at}.id`, idProblem);
      if (seen.has(String(id))) throw new InputError(file, `${at}.id`, `duplicate image id ${String(id)} (also images[${seen.get(String(id))}])`);
      seen.set(String(id), queries.length);
      if (typeof fileName !== "string" || fileName === "") throw new InputError(file, `${at}.file_name`, `expected the picture's file name, got ${describeJsonValue(fileName)}`);
      if (typeof caption !== "string" || caption.trim() === "") throw new InputError(file, `${at}.caption`, `expected the expression's text, got ${describeJsonValue(caption)}`);
      if (pictureId !== undefined && integerProblem(pictureId)) throw new InputError(file, `${at}.original_id`, integerProblem(pictureId)!);
      queries.push({ id: String(id), fileName, caption, pictureId: pictureId as number | undefined });
    },
  }, settings);
  expectArrayContainer(file, "$.images", result.containers.get("$.images"));
  return queries;
}
