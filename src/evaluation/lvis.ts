/**
 * LVIS box or mask AP: read the ground truth and the detections (streamed into typed arrays and
 * packed RLEs), resolve their ids, and evaluate as lvis-api (standard) or the fixed-AP code does
 * (MDETR's LvisEvaluatorFixedAP for boxes, large-vocab-devil's evaluate_ap_fixed.py for masks).
 */
import { concatTyped } from "../core/growable.js";
import { stopwatch } from "../core/log.js";
import { ShardOwners } from "./shards.js";
import { listSome } from "../core/text.js";
import { readLvisGroundTruth, type LvisGroundTruth } from "../formats/lvis/annotations.js";
import { readDetections, type DetectionIds, type Detections } from "../formats/lvis/detections.js";
import { detectionAreas, readMaskDetections, type MaskDetections } from "../formats/lvis/mask-detections.js";
import type { RunContext } from "../json/run-context.js";
import { statInput } from "../json/reader.js";
import { boxAreas, type DetectionColumns, type IouType, type LvisGroundTruthColumns } from "../metrics/lvis/columns.js";
import type { LvisEvaluation } from "../metrics/lvis/evaluate.js";
import { LvisEvaluationThreads, threadsFor } from "./lvis-threads.js";
import type { Selection } from "../metrics/lvis/select.js";

export interface EvalLvisOptions extends Selection {
  annotations: string;
  /** One file, or the shards of one run, in order (their detections are concatenated). */
  predictions: string[];
  ignoreUnknownImages: boolean;
  iouType: IouType;
  /** Threads for the evaluation ("auto": see threadsFor). */
  threads?: number | "auto";
}

export interface EvalLvisReport {
  evaluation: LvisEvaluation;
  groundTruth: LvisGroundTruth;
  selection: Selection;
  iouType: IouType;
  detections: number;
  /** segm, standard AP: detection areas come from their boxes (the first detection has a bbox). */
  areaFromBox: boolean;
}

/** One shard as read, whichever IoU type. */
type Part = Pick<DetectionIds, "image" | "unknownImages"> & { file: string };

export async function evalLvis(options: EvalLvisOptions, { log, read }: RunContext): Promise<EvalLvisReport> {
  const clock = stopwatch();
  // Started first: the threads get ready while the files are read.
  let predictionBytes = 0;
  for (const file of options.predictions) predictionBytes += (await statInput(file)).size;
  const threads = new LvisEvaluationThreads(threadsFor(options.threads ?? "auto", options.iouType, predictionBytes));
  try {
    return await readAndEvaluate(options, threads, log, read, clock);
  } finally {
    await threads.close();
  }
}

async function readAndEvaluate(options: EvalLvisOptions, threads: LvisEvaluationThreads, log: RunContext["log"], read: RunContext["read"], clock: ReturnType<typeof stopwatch>): Promise<EvalLvisReport> {
  const segm = options.iouType === "segm";
  const groundTruth = await readLvisGroundTruth(options.annotations, read, segm);
  log.debug(`${options.annotations}: ${groundTruth.imageIds.length} images, ${groundTruth.categoryIds.length} categories, ${groundTruth.annotations.area.length} annotations (${clock.lap()})`);
  const readPart = async (file: string) => {
    const part = segm ? await readMaskDetections(file, groundTruth, options.ignoreUnknownImages, read) : { file, ...(await readDetections(file, groundTruth, options.ignoreUnknownImages, read)) };
    log.debug(`${file}: ${part.score.length} detections (${clock.lap()})`);
    return part;
  };
  const parts = inImageOrder(await claimShards(options, groundTruth, readPart, log));
  const columns: LvisGroundTruthColumns = {
    imageCount: groundTruth.imageIds.length,
    categoryCount: groundTruth.categoryIds.length,
    frequency: groundTruth.frequency,
    negative: groundTruth.negative,
    notExhaustive: groundTruth.notExhaustive,
    annotations: groundTruth.annotations,
  };
  let detections: DetectionColumns;
  let areaFromBox = false;
  if (segm) {
    const joined = detectionAreas(parts as MaskDetections[], options.protocol);
    areaFromBox = joined.byBox;
    detections = { ...joined, bbox: new Float64Array(0) };
  } else {
    const boxes = concatDetections(parts as (Detections & Part)[]);
    detections = { ...boxes, area: boxAreas(boxes.bbox) };
  }
  const evaluation = await threads.evaluate(columns, detections, options, options.iouType);
  log.debug(`evaluation on ${threads.count} thread${threads.count > 1 ? "s" : ""} (${clock.lap()})`);
  return { evaluation, groundTruth, selection: options, iouType: options.iouType, detections: detections.score.length, areaFromBox };
}

/** Reads every shard, warns about unknown images, and checks that no image is in two shards. */
async function claimShards<P extends Part>(options: EvalLvisOptions, groundTruth: LvisGroundTruth, readPart: (file: string) => Promise<P>, log: RunContext["log"]): Promise<P[]> {
  const owners = new ShardOwners<number>(options.predictions);
  const parts: P[] = [];
  for (const [f, file] of options.predictions.entries()) {
    const part = await readPart(file);
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
  return parts;
}

/**
 * Shards are blocks of images: joined in image order (by each file's first image), they are one
 * run's detections in its order, whatever order a shell glob gave the files in (ties decide cuts).
 */
function inImageOrder<P extends Part>(parts: P[]): P[] {
  const firstImage = parts.map((d) => (d.image.length === 0 ? Infinity : d.image.reduce((m, i) => Math.min(m, i), Infinity)));
  return parts.map((d, f) => ({ d, at: firstImage[f]! })).sort((a, b) => a.at - b.at).map((x) => x.d);
}

/** The detections of all shards, in the order given (ties in the ranking keep that order). */
function concatDetections(parts: readonly Detections[]): Detections {
  if (parts.length === 1) return parts[0]!;
  return {
    image: concatTyped(Int32Array, parts.map((d) => d.image)),
    category: concatTyped(Int32Array, parts.map((d) => d.category)),
    bbox: concatTyped(Float64Array, parts.map((d) => d.bbox)),
    score: concatTyped(Float64Array, parts.map((d) => d.score)),
    unknownImages: { count: parts.reduce((n, d) => n + d.unknownImages.count, 0), examples: parts.flatMap((d) => d.unknownImages.examples).slice(0, 5) },
  };
}
