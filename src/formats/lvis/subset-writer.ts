/**
 * A subset of an LVIS file in LVIS format, as MDETR's scripts/fine-tuning/subsample_lvis.py
 * writes it (detection_lvis*_train.json): the file's info, no licenses, the kept images and their
 * annotations in file order with every field, and the categories unchanged (image_count and the
 * other statistics are not recomputed). Images and annotations are copied from the file's own
 * bytes, not rebuilt (polygons are most of a 1.1 GB file): by the offsets the first read noted
 * when it has them, else in a second pass that finds the elements.
 */
import { closeSync, openSync, readSync } from "node:fs";
import { withAtomicFile, type AtomicFile } from "../../core/atomic-write.js";
import { InputError } from "../../core/errors.js";
import type { Progress } from "../../core/progress.js";
import { readRawElements, statInput, type JsonReadSettings } from "../../json/reader.js";
import type { LvisTrainingSet } from "./training-set.js";

export interface SubsetCounts {
  images: number;
  annotations: number;
}

const COMMA = Buffer.from(",");
type Containers = "images" | "annotations";

/**
 * Writes the images with `kept[i]` and their annotations. Top-level keys: info, licenses, then
 * `images` and `annotations` in the file's order (LVIS puts annotations first), then categories.
 */
export async function writeLvisSubset(target: string, set: LvisTrainingSet, kept: Uint8Array, settings: Pick<JsonReadSettings, "batchBytes">, progress?: (totalBytes: number) => Progress): Promise<SubsetCounts> {
  const unchanged = (now: { size: number; mtimeMs: number }) => now.size === set.stamp.size && now.mtimeMs === set.stamp.mtimeMs;
  const changed = () => new InputError(set.file, undefined, "changed since it was read; run again on a file that stays as it is");
  if (!unchanged(await statInput(set.file))) throw changed();
  const keptAnnotation = (a: number) => kept[set.annotations.image[a]!] === 1;
  const keep: Record<Containers, (index: number) => boolean> = { images: (i) => kept[i] === 1, annotations: keptAnnotation };
  return withAtomicFile(target, async (out) => {
    out.write(`{"info":${JSON.stringify(set.info)},"licenses":[]`);
    const counts = set.offsets ? copyByOffsets(out, set, set.offsets, keep, progress) : await copyByScan(out, set, keep, settings, progress, changed);
    out.write(`,"categories":${JSON.stringify(set.categories.records)}}`);
    if (!unchanged(await statInput(set.file))) throw changed();
    return counts;
  });
}

/** Reads only the kept elements' bytes, run by run (a run of kept elements is one copy, commas included). */
function copyByOffsets(out: AtomicFile, set: LvisTrainingSet, offsets: Record<Containers, Float64Array>, keep: Record<Containers, (index: number) => boolean>, progress?: (totalBytes: number) => Progress): SubsetCounts {
  const counts: SubsetCounts = { images: 0, annotations: 0 };
  const order: Containers[] = offsets.images[0]! < offsets.annotations[0]! ? ["images", "annotations"] : ["annotations", "images"];
  const bar = progress?.(set.stamp.size);
  const fd = openSync(set.file, "r");
  const block = Buffer.allocUnsafe(1 << 20);
  try {
    for (const key of order) {
      const at = offsets[key];
      // Entries: `[`, the commas, `]`; an empty array has two and no element.
      const n = key === "images" ? set.images.count : set.annotations.count;
      if (at.length !== Math.max(n, 1) + 1) throw new InputError(set.file, undefined, "changed since it was read; run again on a file that stays as it is");
      out.write(`,"${key}":[`);
      for (let k = 0; k < n; ) {
        if (!keep[key](k)) {
          k++;
          continue;
        }
        let last = k;
        while (last + 1 < n && keep[key](last + 1)) last++;
        if (counts[key] > 0) out.write(COMMA);
        counts[key] += last - k + 1;
        // Element k starts after the bracket or comma at at[k]; element `last` ends at at[last + 1].
        for (let position = at[k]! + 1, end = at[last + 1]!; position < end; ) {
          const length = readSync(fd, block, 0, Math.min(block.length, end - position), position);
          if (length === 0) throw new InputError(set.file, undefined, "changed since it was read; run again on a file that stays as it is");
          out.write(block.subarray(0, length));
          position += length;
          bar?.tick(length);
        }
        k = last + 1;
      }
      out.write("]");
    }
  } finally {
    closeSync(fd);
    bar?.stop();
  }
  return counts;
}

/** A second pass over the whole file, copying the kept elements as the splitter finds them. */
async function copyByScan(out: AtomicFile, set: LvisTrainingSet, keep: Record<Containers, (index: number) => boolean>, settings: Pick<JsonReadSettings, "batchBytes">, progress: ((totalBytes: number) => Progress) | undefined, changed: () => InputError): Promise<SubsetCounts> {
  const counts: SubsetCounts = { images: 0, annotations: 0 };
  const opened: string[] = [];
  const visitor = (key: Containers) => (element: Uint8Array, index: number) => {
    if (opened.at(-1) !== key) {
      if (opened.length > 0) out.write("]");
      opened.push(key);
      out.write(`,"${key}":[`);
    }
    if (!keep[key](index)) return;
    if (counts[key]++ > 0) out.write(COMMA);
    out.write(element);
  };
  const seen = await readRawElements(set.file, { images: visitor("images"), annotations: visitor("annotations") }, settings, progress ? { progress } : {});
  if (opened.length > 0) out.write("]");
  for (const key of ["images", "annotations"]) if (!opened.includes(key)) out.write(`,"${key}":[]`);
  if (seen.get("images") !== set.images.count || seen.get("annotations") !== set.annotations.count) throw changed();
  return counts;
}
