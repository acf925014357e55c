/**
 * MDETR's LVIS modulated-detection datapoints (finetune_lvis*_train.json), as
 * scripts/fine-tuning/lvis_coco_format.py `convert()` writes them, except for the image order: the
 * reference iterates a Python set of image ids (CPython's set order); we write the images in file
 * order. Per image: one datapoint per positive category (in order of its first annotation on the
 * image, all of its annotations), then one per entry of neg_category_ids (repeats kept). Written
 * as a stream: the full train set is 1.3 M datapoints, more than one string can hold.
 */
import { withAtomicFile, type AtomicFile } from "../../core/atomic-write.js";
import { codePointLength } from "../../compat/python.js";
import { cocoUrlFileName } from "../coco.js";
import type { LvisTrainingSet } from "./training-set.js";

export interface DatapointCounts {
  /** Datapoints written: positive (one per category present) and negative (one per listed negative). */
  positive: number;
  negative: number;
  annotations: number;
  /** Kept images that produced at least one datapoint. */
  images: number;
}

/** The annotations of each image, in file order: `order[start[i] .. start[i + 1])`. */
function annotationsByImage(set: LvisTrainingSet): { start: Int32Array; order: Int32Array } {
  const { image } = set.annotations;
  const start = new Int32Array(set.images.count + 1);
  for (let a = 0; a < image.length; a++) start[image[a]! + 1]!++;
  for (let i = 0; i < set.images.count; i++) start[i + 1]! += start[i]!;
  const fill = start.slice(0, -1);
  const order = new Int32Array(image.length);
  for (let a = 0; a < image.length; a++) order[fill[image[a]!]!++] = a;
  return { start, order };
}

/** The categories present on an image, in order of their first annotation there. */
function positiveCategories(set: LvisTrainingSet, annotations: Int32Array, stamp: Int32Array, image: number): number[] {
  const categories: number[] = [];
  for (const a of annotations) {
    const c = set.annotations.category[a]!;
    if (stamp[c] === image) continue;
    stamp[c] = image;
    categories.push(c);
  }
  return categories;
}

function writeDatapoints(out: AtomicFile, set: LvisTrainingSet, kept: Uint8Array, captions: readonly string[], onImage?: () => void): DatapointCounts {
  const { start, order } = annotationsByImage(set);
  const stamp = new Int32Array(set.categories.count).fill(-1);
  const captionJson = captions.map((caption) => `${JSON.stringify(caption)},"tokens_negative":[[0,${codePointLength(caption)}]]`);
  const spans = captions.map((caption) => `[[0,${codePointLength(caption)}]]`);
  const { images, annotations } = set;
  const counts: DatapointCounts = { positive: 0, negative: 0, annotations: 0, images: 0 };
  const positives: number[][] = [];

  // Images (datapoints), with ids 0, 1, ... in output order.
  out.write('{"info":[],"licenses":[],"images":[');
  let id = 0;
  for (let i = 0; i < images.count; i++) {
    positives[i] = [];
    if (!kept[i]) continue;
    const own = order.subarray(start[i]!, start[i + 1]!);
    const present = positiveCategories(set, own, stamp, i);
    positives[i] = present;
    const url = images.cocoUrl[i]!;
    const head = `{"file_name":${JSON.stringify(cocoUrlFileName(url))},"height":${images.height[i]},"width":${images.width[i]},"id":`;
    const middle = `,"original_id":${images.id[i]},"coco_url":${JSON.stringify(url)},"caption":`;
    const datapoint = (category: number) => {
      out.write(`${id === 0 ? "" : ","}${head}${id}${middle}${captionJson[category]},"dataset_name":"lvis"}`);
      id++;
    };
    for (const c of present) datapoint(c);
    const negativeStart = images.negative.start[i]!;
    const negativeEnd = images.negative.start[i + 1]!;
    for (let e = negativeStart; e < negativeEnd; e++) datapoint(images.negative.entries[e]!);
    counts.positive += present.length;
    counts.negative += negativeEnd - negativeStart;
    if (present.length + negativeEnd - negativeStart > 0) counts.images++;
    onImage?.();
  }

  // Annotations: each under its datapoint's id, iscrowd 0 and category 1 whatever the input says.
  out.write('],"annotations":[');
  id = 0;
  let annotationId = 0;
  for (let i = 0; i < images.count; i++) {
    if (!kept[i]) continue;
    const own = order.subarray(start[i]!, start[i + 1]!);
    for (const c of positives[i]!) {
      for (const a of own) {
        if (annotations.category[a] !== c) continue;
        const b = 4 * a;
        const box = `[${annotations.bbox[b]},${annotations.bbox[b + 1]},${annotations.bbox[b + 2]},${annotations.bbox[b + 3]}]`;
        out.write(`${annotationId === 0 ? "" : ","}{"area":${annotations.area[a]},"iscrowd":0,"category_id":1,"bbox":${box},"tokens_positive":${spans[c]},"image_id":${id},"id":${annotationId}}`);
        annotationId++;
      }
      id++;
    }
    id += images.negative.start[i + 1]! - images.negative.start[i]!;
  }
  counts.annotations = annotationId;
  out.write('],"categories":[{"supercategory":"object","id":1,"name":"object"}]}');
  return counts;
}

/** Writes the datapoints of the kept images to `target` (atomically); captions per category index. */
export async function writeFinetuneDatapoints(target: string, set: LvisTrainingSet, kept: Uint8Array, captions: readonly string[], onImage?: () => void): Promise<DatapointCounts> {
  return withAtomicFile(target, (out) => writeDatapoints(out, set, kept, captions, onImage));
}
