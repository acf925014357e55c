/**
 * LVIS box AP: read the ground truth and the detections (streamed into typed arrays), resolve
 * their ids, and evaluate as lvis-api (standard) or MDETR's LvisEvaluatorFixedAP (fixed) does.
 */
import { stopwatch } from "../core/log.js";
import { listSome } from "../core/text.js";
import { readLvisGroundTruth, type LvisGroundTruth } from "../formats/lvis/annotations.js";
import { readDetections } from "../formats/lvis/detections.js";
import type { RunContext } from "../json/run-context.js";
import { evaluateLvis, type LvisEvaluation } from "../metrics/lvis/evaluate.js";
import type { Selection } from "../metrics/lvis/select.js";

export interface EvalLvisOptions extends Selection {
  annotations: string;
  predictions: string;
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
  const detections = await readDetections(options.predictions, groundTruth, options.ignoreUnknownImages, read);
  log.debug(`${options.predictions}: ${detections.score.length} detections (${clock.lap()})`);
  const { unknownImages } = detections;
  if (unknownImages.count > 0) {
    log.warn(`${options.predictions}: ${unknownImages.count} detections for images not in ${options.annotations} (${listSome(unknownImages.examples.map(String), unknownImages.count)}); skipped`);
  }
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
