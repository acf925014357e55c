/**
 * LVIS box AP: read the ground truth and the detections (streamed into typed arrays), resolve
 * their ids, and evaluate as lvis-api (standard) or MDETR's LvisEvaluatorFixedAP (fixed) does.
 */
import { stopwatch } from "../core/log.js";
import { ShardOwners } from "./shards.js";
import { listSome } from "../core/text.js";
import { readLvisGroundTruth, type LvisGroundTruth } from "../formats/lvis/annotations.js";
import { readDetections, type Detections } from "../formats/lvis/detections.js";
import type { RunContext } from "../json/run-context.js";
import { evaluateLvis, type LvisEvaluation } from "../metrics/lvis/evaluate.js";
import type { Selection } from "../metrics/lvis/select.js";

export interface EvalLvisOptions extends Selection {
  annotations: string;
  /** One file, or the shards of one run, in order (their detections are concatenated). */
  predictions: string[];
  ignoreUnknownImages: boolean;
}

export interface EvalLvisReport {
  evaluation: LvisEvaluation;
  groundTruth: LvisGroundTruth;
  selection: Selection;
  detections: number;
}

export async function evalLvis(options: EvalLvisOptions, { log, read }: RunContext): Promise<EvalLvisReport> {
  const clock = stopwatch();
  const groundTruth = await readLvisGroundTruth(options.annotations, read);
  log.debug(`${options.annotations}: ${groundTruth.imageIds.length} images, ${groundTruth.categoryIds.length} categories, ${groundTruth.annotations.area.length} annotations (${clock.lap()})`);
  const owners = new ShardOwners<number>(options.predictions);
  const parts: Detections[] = [];
  for (const [f, file] of options.predictions.entries()) {
    const part = await readDetections(file, groundTruth, options.ignoreUnknownImages, read);
    log.debug(`${file}: ${part.score.length} detections (${clock.lap()})`);
    const { unknownImages } = part;
    if (unknownImages.count > 0) {
      log.warn(`${file}: ${unknownImages.count} detections for images not in ${options.annotations} (${listSome(unknownImages.examples.map(String), unknownImages.count)}); skipped`);
    }
    // Sharded by image: an image's detections are all in one file.
    const present = new Uint8Array(groundTruth.imageIds.length);
    for (const i of part.image) present[i] = 1;
    present.forEach((here, i) => here && owners.claim(i, f, (image) => `detections for image ${groundTruth.imageIds[image]}`));
    parts.push(part);
  }
  // Shards are blocks of images: joined in image order (by each file's first image), they are one
  // run's detections in its order, whatever order a shell glob gave the files in (ties decide cuts).
  const firstImage = parts.map((d) => (d.image.length === 0 ? Infinity : d.image.reduce((m, i) => Math.min(m, i), Infinity)));
  const ordered = parts.map((d, f) => ({ d, at: firstImage[f]! })).sort((a, b) => a.at - b.at).map((x) => x.d);
  const detections = concatDetections(ordered);
  const evaluation = evaluateLvis(
    {
      imageCount: groundTruth.imageIds.length,
      categoryCount: groundTruth.categoryIds.length,
      frequency: groundTruth.frequency,
      negative: groundTruth.negative,
      notExhaustive: groundTruth.notExhaustive,
      annotations: groundTruth.annotations,
    },
    detections,
    options,
  );
  log.debug(`evaluation (${clock.lap()})`);
  return { evaluation, groundTruth, selection: options, detections: detections.score.length };
}

/** The detections of all shards, in the order given (ties in the ranking keep that order). */
function concatDetections(parts: readonly Detections[]): Detections {
  if (parts.length === 1) return parts[0]!;
  const join = <T extends Int32Array | Float64Array>(make: new (n: number) => T, pick: (d: Detections) => T): T => {
    const out = new make(parts.reduce((n, d) => n + pick(d).length, 0));
    let at = 0;
    for (const d of parts) {
      out.set(pick(d) as never, at);
      at += pick(d).length;
    }
    return out;
  };
  return {
    image: join(Int32Array, (d) => d.image),
    category: join(Int32Array, (d) => d.category),
    bbox: join(Float64Array, (d) => d.bbox),
    score: join(Float64Array, (d) => d.score),
    unknownImages: { count: parts.reduce((n, d) => n + d.unknownImages.count, 0), examples: parts.flatMap((d) => d.unknownImages.examples).slice(0, 5) },
  };
}
