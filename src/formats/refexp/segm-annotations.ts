/**
 * Referring expressions for segmentation (`eval refcoco --iou-type segm`): a COCO json whose every
 * `images[]` entry is one expression (`id`, `height`, `width`, `dataset_name`), with its target
 * masks in `annotations[]`: all annotations whose `image_id` is the expression's id, united. No
 * annotation makes a no-target expression (gRefCOCO). Each annotation names its mask by
 * `original_id` (an annotation of COCO's instances file: MDETR's finetune_refcoco*.json carry no
 * segmentation) or carries its own `segmentation`.
 */
import { InputError, childPath } from "../../core/errors.js";
import { expectArrayContainer, readJson, type JsonReadSettings } from "../../json/reader.js";
import { integerProblem, isRecord, objectProblem } from "../../json/validate.js";
import { checkImageSize, checkSegmentation, type Segmentation } from "../segmentation.js";
import { checkExpressionImage } from "./annotations.js";

/** Where an annotation's mask comes from. */
export type ResMaskSource = { kind: "segmentation"; segmentation: Segmentation } | { kind: "instance"; originalId: number };

export interface ResAnnotation {
  /** `annotations[12]`, for messages. */
  at: string;
  expression: number;
  source: ResMaskSource;
}

export interface ResExpressions {
  file: string;
  /** Expression (`images[].id`) ids in file order, as the text of the JSON number. */
  ids: string[];
  indexOfId: Map<string, number>;
  /** Per expression: `images[k]`'s height and width. */
  height: Uint32Array;
  width: Uint32Array;
  /** The `dataset_name` values (`all` for entries without one), sorted. */
  datasetNames: string[];
  datasetOf: Uint32Array;
  /** In file order. */
  annotations: ResAnnotation[];
  /** Per expression: how many annotations it has (0: no target). */
  annotationCount: Uint32Array;
}

/** Contract B: expressions without `dataset_name` are reported together under this name. */
export const UNNAMED_DATASET = "all";

/** Why an expression needs its image's size, for checkImageSize's message. */
const MASK_SIZE = "masks are compared at the image's size";

/**
 * Reads the expressions and their annotations. With `instances`, each annotation needs an integer
 * `original_id` and its own `segmentation` is ignored (checked as JSON, never parsed); without,
 * each needs a `segmentation` (polygons, uncompressed or compressed RLE).
 */
export async function readResExpressions(file: string, instances: boolean, settings: JsonReadSettings = {}): Promise<ResExpressions> {
  const ids: string[] = [];
  const indexOfId = new Map<string, number>();
  const heights: number[] = [];
  const widths: number[] = [];
  const bucketOf: string[] = [];
  const pending: { at: string; imageId: number; source: ResMaskSource }[] = [];

  const result = await readJson(
    file,
    {
      "$.images.*": (element, key) => {
        const { at, record: image, id, datasetName } = checkExpressionImage(file, key, element, indexOfId);
        const { height, width } = checkImageSize(file, at, image, MASK_SIZE);
        heights.push(height);
        widths.push(width);
        indexOfId.set(id, ids.length);
        ids.push(id);
        bucketOf.push(datasetName ?? UNNAMED_DATASET);
      },
      "$.annotations.*": (value, key) => {
        const at = childPath("annotations", key);
        if (!isRecord(value)) throw new InputError(file, at, objectProblem(value) ?? "");
        const imageIdProblem = integerProblem(value["image_id"]);
        if (imageIdProblem) throw new InputError(file, `${at}.image_id`, imageIdProblem);
        pending.push({ at, imageId: value["image_id"] as number, source: maskSource(file, at, value, instances) });
      },
    },
    settings,
    // With --instances the masks come from there: this file's polygons are checked, not parsed.
    instances ? { skip: { annotations: "segmentation" } } : {},
  );
  expectArrayContainer(file, "$.images", result.containers.get("$.images"));
  expectArrayContainer(file, "$.annotations", result.containers.get("$.annotations"));

  const annotationCount = new Uint32Array(ids.length);
  const annotations = pending.map(({ at, imageId, source }) => {
    const expression = indexOfId.get(String(imageId));
    if (expression === undefined) throw new InputError(file, `${at}.image_id`, `no image with id ${imageId} in images[]`);
    annotationCount[expression]! += 1;
    return { at, expression, source };
  });
  const datasetNames = [...new Set(bucketOf)].sort();
  const datasetIndex = new Map(datasetNames.map((name, i) => [name, i]));
  return {
    file,
    ids,
    indexOfId,
    height: Uint32Array.from(heights),
    width: Uint32Array.from(widths),
    datasetNames,
    datasetOf: Uint32Array.from(bucketOf, (name) => datasetIndex.get(name)!),
    annotations,
    annotationCount,
  };
}

function maskSource(file: string, at: string, annotation: Record<string, unknown>, instances: boolean): ResMaskSource {
  if (instances) {
    const originalId = annotation["original_id"];
    const problem = integerProblem(originalId);
    if (problem) throw new InputError(file, `${at}.original_id`, `${problem} (with --instances, the id of the annotation in the instances file whose mask this is)`);
    return { kind: "instance", originalId: originalId as number };
  }
  const segmentation = annotation["segmentation"];
  if (segmentation === undefined) {
    throw new InputError(file, `${at}.segmentation`, "missing: without --instances every annotation needs its mask (MDETR's finetune_refcoco*.json have none: give --instances instances_train2014.json)");
  }
  return { kind: "segmentation", segmentation: checkSegmentation(file, `${at}.segmentation`, segmentation) };
}
