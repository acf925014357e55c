/**
 * A subset of an LVIS file in LVIS format, as MDETR's scripts/fine-tuning/subsample_lvis.py
 * writes it (detection_lvis*_train.json): the file's info, no licenses, the kept images and their
 * annotations in file order with every field, and the categories unchanged (image_count and the
 * other statistics are not recomputed). Images and annotations are copied from the file's own
 * bytes in a second pass, not rebuilt: polygons are most of a 1.1 GB file.
 */
import { withAtomicFile } from "../../core/atomic-write.js";
import { InputError } from "../../core/errors.js";
import type { Progress } from "../../core/progress.js";
import { readRawElements, statInput } from "../../json/reader.js";
import type { LvisTrainingSet } from "./training-set.js";

export interface SubsetCounts {
  images: number;
  annotations: number;
}

/**
 * Writes the images with `kept[i]` and their annotations. Object keys come in the file's order of
 * `images` and `annotations` (LVIS puts annotations first), after info and licenses.
 */
export async function writeLvisSubset(target: string, set: LvisTrainingSet, kept: Uint8Array, progress?: (totalBytes: number) => Progress): Promise<SubsetCounts> {
  const unchanged = (now: { size: number; mtimeMs: number }) => now.size === set.stamp.size && now.mtimeMs === set.stamp.mtimeMs;
  const changed = () => new InputError(set.file, undefined, "changed since it was read; run again on a file that stays as it is");
  if (!unchanged(await statInput(set.file))) throw changed();
  const counts: SubsetCounts = { images: 0, annotations: 0 };
  const { image: imageOf } = set.annotations;
  return withAtomicFile(target, async (out) => {
    out.write(`{"info":${JSON.stringify(set.info)},"licenses":[]`);
    const opened: string[] = [];
    const open = (key: string) => {
      if (opened.at(-1) === key) return;
      if (opened.length > 0) out.write("]");
      opened.push(key);
      out.write(`,${JSON.stringify(key)}:[`);
    };
    const seen = await readRawElements(
      set.file,
      {
        images: (element, index) => {
          open("images");
          if (!kept[index]) return;
          if (counts.images++ > 0) out.write(COMMA);
          out.write(element);
        },
        annotations: (element, index) => {
          open("annotations");
          if (!kept[imageOf[index]!]) return;
          if (counts.annotations++ > 0) out.write(COMMA);
          out.write(element);
        },
      },
      progress ? { progress } : {},
    );
    if (opened.length > 0) out.write("]");
    for (const key of ["images", "annotations"]) if (!opened.includes(key)) out.write(`,${JSON.stringify(key)}:[]`);
    out.write(`,"categories":${JSON.stringify(set.categories.records)}}`);
    if (seen.get("images") !== set.images.count || seen.get("annotations") !== set.annotations.count || !unchanged(await statInput(set.file))) throw changed();
    return counts;
  });
}

const COMMA = Buffer.from(",");
