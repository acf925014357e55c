/**
 * RefCOCO / RefCOCO+ / RefCOCOg: read MDETR's annotations and the predictions, check that they
 * pair up, and score precision@k as MDETR's RefExpEvaluator (datasets/refexp.py) does.
 */
import { InputError } from "../core/errors.js";
import { stopwatch } from "../core/log.js";
import { listSome } from "../core/text.js";
import type { BoxOverlap } from "../compat/torch-box-ops.js";
import { mergeBoxPredictions, readBoxPredictions, type BoxPredictions, type PredictionFormat } from "../formats/refexp/predictions.js";
import { readRefexpAnnotations } from "../formats/refexp/annotations.js";
import type { RunContext } from "../json/run-context.js";
import { refexpPrecision, type RefexpDatasetPrecision } from "../metrics/refexp.js";
import { ShardOwners, shardLabel } from "./shards.js";

export interface EvalRefcocoOptions {
  annotations: string;
  /** One file, or the shards of one run (each expression in one of them). */
  predictions: string[];
  match: BoxOverlap;
  iouThreshold: number;
  k: number[];
  allowMissing: boolean;
}

export interface EvalRefcocoReport {
  rows: RefexpDatasetPrecision[];
  match: BoxOverlap;
  threshold: number;
  /** "mixed" when shards come in both formats. */
  predictionFormat: PredictionFormat | "mixed";
  /** Expressions with no entry in the predictions (counted as misses under --allow-missing). */
  missing: number;
  unknownImageIds: number;
}

export async function evalRefcoco(options: EvalRefcocoOptions, { log, read }: RunContext): Promise<EvalRefcocoReport> {
  const clock = stopwatch();
  const groundTruth = await readRefexpAnnotations(options.annotations, read);
  log.debug(`${options.annotations}: ${groundTruth.imageIds.length} expressions in ${groundTruth.datasetNames.join(", ")} (${clock.lap()})`);
  const owners = new ShardOwners<number>(options.predictions);
  const parts: BoxPredictions[] = [];
  for (const [f, file] of options.predictions.entries()) {
    const part = await readBoxPredictions(file, groundTruth.indexOfImageId, read);
    log.debug(`${file}: ${part.scores.length} boxes, ${part.format} (${clock.lap()})`);
    part.listed.forEach((here, e) => here && owners.claim(e, f, (expression) => `the expression with image id ${groundTruth.imageIds[expression]}`));
    const unknown = part.unknownImageIds;
    if (unknown.count > 0) log.warn(`${file}: ${unknown.count} predictions name image ids not in ${options.annotations} (${listSome(unknown.examples, unknown.count)}); ignored`);
    parts.push(part);
  }
  const predictions = mergeBoxPredictions(parts);
  const label = shardLabel(options.predictions);

  const missingIds = groundTruth.imageIds.filter((_, e) => !predictions.listed[e]);
  if (missingIds.length > 0 && !options.allowMissing) {
    throw new InputError(
      label,
      undefined,
      `no predictions for ${missingIds.length} of ${groundTruth.imageIds.length} expressions (image ids ${listSome(missingIds)}); ` +
        "pass --allow-missing to count them as misses",
    );
  }
  if (missingIds.length > 0) log.warn(`${missingIds.length} expressions have no predictions and count as misses (image ids ${listSome(missingIds)})`);
  const unknown = predictions.unknownImageIds;

  const rows = refexpPrecision(
    { ...groundTruth, ...predictions },
    { k: options.k, overlap: options.match, threshold: options.iouThreshold },
  );
  log.debug(`precision@k (${clock.lap()})`);
  return {
    rows,
    match: options.match,
    threshold: options.iouThreshold,
    predictionFormat: predictions.format,
    missing: missingIds.length,
    unknownImageIds: unknown.count,
  };
}
