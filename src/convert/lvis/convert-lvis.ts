/**
 * `convert lvis` as a function: read an LVIS v1 training file, pick MDETR's few-shot subset
 * (or every image at fraction 1) and write it as an LVIS subset (subsample_lvis.py) or as MDETR's
 * modulated-detection datapoints (lvis_coco_format.py).
 */
import { InputError } from "../../core/errors.js";
import { stopwatch } from "../../core/log.js";
import { roundHalfEven } from "../../compat/python.js";
import { FREQUENCIES } from "../../formats/lvis/annotations.js";
import { writeFinetuneDatapoints } from "../../formats/lvis/finetune-writer.js";
import { writeLvisSubset } from "../../formats/lvis/subset-writer.js";
import { readLvisTrainingSet, type LvisTrainingSet } from "../../formats/lvis/training-set.js";
import type { RunContext } from "../../json/run-context.js";
import { cleanName } from "../../formats/lvis/clean-name.js";
import { SamplerFailure, sampleBalancedSubset, targetCount as targetCountOf } from "./sampler.js";

export type LvisOutputFormat = "lvis" | "mdetr";

export interface ConvertLvisOptions {
  annotations: string;
  output: string;
  /** In (0, 1]; exactly 1 keeps every image without sampling. */
  fraction: number;
  seed: bigint;
  format: LvisOutputFormat;
}

export interface FrequencyCoverage {
  /** Categories of this group with an annotation in the subset. */
  covered: number;
  total: number;
}

export interface ConvertLvisReport {
  format: LvisOutputFormat;
  fraction: number;
  seed: bigint;
  /** False at fraction 1 (every image, no random numbers). */
  sampled: boolean;
  /** `int(len(images) * fraction)`. */
  targetCount: number;
  images: { kept: number; total: number };
  annotations: { kept: number; total: number };
  /** MDETR format only: datapoints written. */
  datapoints: { positive: number; negative: number } | undefined;
  /** Per frequency group r, c, f. */
  categories: Record<(typeof FREQUENCIES)[number], FrequencyCoverage>;
  /** The name MDETR's scripts give this subset (`lvis10`) and the file they write. */
  referenceName: string;
  referenceFile: string;
}

/** MDETR's name for the subset: `lvis` at fraction 1, else `lvis{round(fract * 100)}` (half to even). */
export function referenceName(fraction: number): string {
  return fraction === 1 ? "lvis" : `lvis${roundHalfEven(fraction * 100)}`;
}

function coverage(set: LvisTrainingSet, kept: Uint8Array): ConvertLvisReport["categories"] {
  const covered = new Uint8Array(set.categories.count);
  const { image, category } = set.annotations;
  for (let a = 0; a < image.length; a++) if (kept[image[a]!]) covered[category[a]!] = 1;
  const groups = { r: { covered: 0, total: 0 }, c: { covered: 0, total: 0 }, f: { covered: 0, total: 0 } };
  set.categories.frequency.forEach((f, c) => {
    const group = groups[FREQUENCIES[f]!];
    group.total++;
    group.covered += covered[c]!;
  });
  return groups;
}

export async function convertLvis(options: ConvertLvisOptions, { log, read, progress }: RunContext): Promise<ConvertLvisReport> {
  const clock = stopwatch();
  const sampled = options.fraction !== 1;
  const mdetr = options.format === "mdetr";
  const set = await readLvisTrainingSet(
    options.annotations,
    { datapointFields: mdetr, imageCount: sampled, copy: !mdetr },
    read,
    (bytes) => progress(`reading ${options.annotations}`, bytes),
  );
  log.debug(`read ${set.images.count} images, ${set.annotations.count} annotations, ${set.categories.count} categories (${clock.lap()})`);

  let kept: Uint8Array;
  let targetCount = set.images.count;
  if (sampled) {
    const bar = progress("sampling", targetCountOf(set.images.count, options.fraction));
    try {
      const result = sampleBalancedSubset(
        {
          imageIds: set.images.id,
          negativeStart: set.images.negative.start,
          negativeCategory: set.images.negative.entries,
          notExhaustiveStart: set.images.notExhaustive.start,
          notExhaustiveCategory: set.images.notExhaustive.entries,
          annotationImage: set.annotations.image,
          annotationCategory: set.annotations.category,
          categoryIds: set.categories.id,
          categoryImageCount: set.categories.imageCount,
        },
        { fraction: options.fraction, seed: options.seed, onPick: () => bar.tick() },
      );
      kept = result.kept;
      targetCount = result.targetCount;
    } catch (error) {
      if (error instanceof SamplerFailure) {
        throw new InputError(options.annotations, undefined, `MDETR's sampler fails for --fraction ${options.fraction} --seed ${options.seed}: ${error.message}`);
      }
      throw error;
    } finally {
      bar.stop();
    }
    log.debug(`sampled ${targetCount} images (${clock.lap()})`);
  } else kept = new Uint8Array(set.images.count).fill(1);

  let datapoints: ConvertLvisReport["datapoints"];
  let keptAnnotations: number;
  if (mdetr) {
    const bar = progress("writing", targetCount);
    try {
      const counts = await writeFinetuneDatapoints(options.output, set, kept, set.categories.name.map(cleanName), () => bar.tick());
      datapoints = { positive: counts.positive, negative: counts.negative };
      keptAnnotations = counts.annotations;
    } finally {
      bar.stop();
    }
  } else {
    keptAnnotations = (await writeLvisSubset(options.output, set, kept, read, (bytes) => progress("writing", bytes))).annotations;
  }
  log.debug(`wrote ${options.output} (${clock.lap()})`);
  const name = referenceName(options.fraction);
  return {
    format: options.format,
    fraction: options.fraction,
    seed: options.seed,
    sampled,
    targetCount,
    images: { kept: targetCount, total: set.images.count },
    annotations: { kept: keptAnnotations, total: set.annotations.count },
    datapoints,
    categories: coverage(set, kept),
    referenceName: name,
    referenceFile: `${mdetr ? "finetune" : "detection"}_${name}_train.json`,
  };
}
