/**
 * Referring-expression segmentation on RefCOCO / RefCOCO+ / RefCOCOg / gRefCOCO: each expression's
 * target mask (the union of its annotations' masks, from the instances file or the annotations
 * themselves), the predicted mask that counts, their pixel intersection and union at the image's
 * size, and LAVT's (or CRIS's) scores per dataset, with ReLA's generalized keys where a dataset has
 * no-target expressions.
 */
import { stat } from "node:fs/promises";
import { InputError, UsageError } from "../core/errors.js";
import { stopwatch } from "../core/log.js";
import { listSome } from "../core/text.js";
import { intersectionAndUnion, mergeRles, rleArea, type Rle } from "../compat/coco-mask/rle.js";
import { readInstanceMasks } from "../formats/refexp/instances.js";
import { readMaskPredictions, type ChosenMask } from "../formats/refexp/mask-predictions.js";
import { readPngMasks } from "../formats/refexp/png-masks.js";
import { readResExpressions, type ResExpressions } from "../formats/refexp/segm-annotations.js";
import { segmentationRle } from "../formats/segmentation.js";
import type { RunContext } from "../json/run-context.js";
import { resScores, type ResDatasetScores, type ResVariant } from "../metrics/refexp-segm.js";
import { ShardOwners, shardLabel } from "./shards.js";

export interface EvalRefcocoSegmOptions {
  annotations: string;
  /** COCO's instances file, where the annotations' `original_id`s point; else masks from the annotations. */
  instances: string | undefined;
  /** JSON results lists (several: the shards of one run), or one folder of `<id>.png`. */
  predictions: string[];
  variant: ResVariant;
  allowMissing: boolean;
}

export type MaskPredictionFormat = "coco-results" | "png-folder";

export interface EvalRefcocoSegmReport {
  rows: ResDatasetScores[];
  variant: ResVariant;
  predictionFormat: MaskPredictionFormat;
  /** Expressions without a prediction (counted as empty masks under --allow-missing). */
  missing: number;
  noTarget: number;
}

export async function evalRefcocoSegm(options: EvalRefcocoSegmOptions, { log, read }: RunContext): Promise<EvalRefcocoSegmReport> {
  const clock = stopwatch();
  const expressions = await readResExpressions(options.annotations, options.instances !== undefined, read);
  const n = expressions.ids.length;
  log.debug(`${options.annotations}: ${n} expressions, ${expressions.annotations.length} annotations in ${expressions.datasetNames.join(", ")} (${clock.lap()})`);
  const targets = await targetMasks(expressions, options.instances, read, (count) => log.debug(`${options.instances}: ${count} masks found (${clock.lap()})`));
  log.debug(`ground-truth masks rasterised and united (${clock.lap()})`);

  const { format, predicted, label } = await predictedMasks(expressions, options.predictions, read);
  log.debug(`${label}: predictions (${clock.lap()})`);
  const missingIds = expressions.ids.filter((_, e) => predicted[e] === undefined);
  if (missingIds.length > 0 && !options.allowMissing) {
    throw new InputError(label, undefined, `no prediction for ${missingIds.length} of ${n} expressions (image ids ${listSome(missingIds)}); pass --allow-missing to count them as empty masks`);
  }
  if (missingIds.length > 0) log.warn(`${missingIds.length} expressions have no prediction and count as empty masks (image ids ${listSome(missingIds)})`);

  const intersection = new Float64Array(n);
  const union = new Float64Array(n);
  const predictedEmpty = new Uint8Array(n);
  const noTarget = new Uint8Array(n);
  for (let e = 0; e < n; e++) {
    const target = targets[e]!;
    const mask = predicted[e] ?? emptyMask(expressions.height[e]!, expressions.width[e]!);
    const counts = intersectionAndUnion(mask, target);
    intersection[e] = counts.intersection;
    union[e] = counts.union;
    predictedEmpty[e] = rleArea(mask) === 0 ? 1 : 0;
    noTarget[e] = expressions.annotationCount[e] === 0 ? 1 : 0;
  }
  const rows = resScores({ datasetNames: expressions.datasetNames, datasetOf: expressions.datasetOf, intersection, union, noTarget, predictedEmpty }, options.variant);
  log.debug(`scores (${clock.lap()})`);
  for (const row of rows) {
    if (row.undefinedCases.includes("sum-union-zero")) log.warn(`${row.dataset}: no pixel is predicted or annotated in any expression (sum U = 0): ${options.variant === "lavt" ? "oIoU and " : ""}cIoU reported as 0`);
    if (row.undefinedCases.includes("no-targeted")) log.warn(`${row.dataset}: every expression is no-target: T-acc reported as 0`);
  }
  return { rows, variant: options.variant, predictionFormat: format, missing: missingIds.length, noTarget: noTarget.reduce((sum, v) => sum + v, 0) };
}

function emptyMask(h: number, w: number): Rle {
  return { h, w, counts: Uint32Array.of(h * w) };
}

/** Per expression, the union of its annotations' masks (empty for a no-target expression). */
async function targetMasks(expressions: ResExpressions, instancesFile: string | undefined, read: RunContext["read"], found: (count: number) => void): Promise<Rle[]> {
  const { file, height, width } = expressions;
  const parts: Rle[][] = expressions.ids.map(() => []);
  if (instancesFile === undefined) {
    for (const { at, expression: e, source } of expressions.annotations) {
      if (source.kind !== "segmentation") continue;
      // Polygons rasterised at the expression's image size, parts united (COCO.annToRLE).
      parts[e]!.push(segmentationRle(file, `${at}.segmentation`, source.segmentation, height[e]!, width[e]!));
    }
  } else {
    const wanted = new Set<number>();
    for (const { source } of expressions.annotations) if (source.kind === "instance") wanted.add(source.originalId);
    const instances = await readInstanceMasks(instancesFile, wanted, read);
    found(instances.size);
    const rasterised = new Map<number, Rle>();
    for (const { at, expression: e, source } of expressions.annotations) {
      if (source.kind !== "instance") continue;
      const mask = instances.get(source.originalId);
      if (!mask) throw new InputError(file, `${at}.original_id`, `no annotation with id ${source.originalId} in ${instancesFile}`);
      if (mask.height !== height[e] || mask.width !== width[e]) {
        throw new InputError(
          file,
          `images[${e}]`,
          `the image is ${height[e]} x ${width[e]} (height x width), but the mask of ${at} (original_id ${source.originalId}) is on ${instancesFile} ${mask.imageAt} (image id ${mask.imageId}), which is ${mask.height} x ${mask.width}`,
        );
      }
      // RefCOCO has several expressions per object: each object's mask is rasterised once.
      let rle = rasterised.get(source.originalId);
      if (!rle) {
        rle = segmentationRle(instancesFile, `${mask.at}.segmentation`, mask.segmentation, mask.height, mask.width);
        rasterised.set(source.originalId, rle);
      }
      parts[e]!.push(rle);
    }
  }
  return parts.map((list, e) => (list.length === 0 ? emptyMask(height[e]!, width[e]!) : mergeRles(list, false)));
}

/** The predicted mask of each expression, from one PNG folder or from JSON lists (shards). */
async function predictedMasks(expressions: ResExpressions, files: string[], read: RunContext["read"]): Promise<{ format: MaskPredictionFormat; predicted: (Rle | undefined)[]; label: string }> {
  const folders = await Promise.all(files.map(async (file) => (await stat(file).catch(() => undefined))?.isDirectory() === true));
  if (folders.some(Boolean)) {
    if (files.length > 1) throw new UsageError(`--predictions: ${files[folders.indexOf(true)]} is a folder of PNG masks, which is one prediction source: give it alone`);
    const { masks } = await readPngMasks(files[0]!, expressions, read.inputs);
    return { format: "png-folder", predicted: masks, label: files[0]! };
  }
  const owners = new ShardOwners<number>(files);
  const chosen: { file: string; mask: ChosenMask }[] = [];
  for (const [f, file] of files.entries()) {
    const part = await readMaskPredictions(file, expressions, read);
    part.chosen.forEach((mask, e) => {
      if (!mask) return;
      owners.claim(e, f, (expression) => `the expression with image id ${expressions.ids[expression]}`);
      chosen[e] = { file, mask };
    });
  }
  const predicted = expressions.ids.map((_, e) => {
    const entry = chosen[e];
    if (!entry) return undefined;
    return segmentationRle(entry.file, `${entry.mask.at}.segmentation`, entry.mask.segmentation, expressions.height[e]!, expressions.width[e]!);
  });
  return { format: "coco-results", predicted, label: shardLabel(files) };
}
