/** `mdetr eval refcoco`: RefCOCO/RefCOCO+/RefCOCOg precision@k, as MDETR's RefExpEvaluator. */
import type { Command } from "commander";
import { InputError } from "../errors.js";
import { readBoxPredictions, type PredictionFormat } from "../datasets/box-predictions.js";
import { readRefexpAnnotations } from "../datasets/refexp-annotations.js";
import { refexpPrecision, type RefexpDatasetPrecision } from "../metrics/refexp-precision.js";
import type { BoxOverlap } from "../metrics/box-overlap.js";
import { checkOutputTarget, emitResult } from "../util/emit.js";
import { stopwatch, type Logger } from "../util/log.js";
import { formatTable, percent } from "../util/table.js";
import { JSON_OPTION, listSome, parseChoice, parseKList, parseNumberIn } from "./option-parsers.js";
import type { CommandContext } from "./context.js";

export interface EvalRefcocoOptions {
  annotations: string;
  predictions: string;
  match: BoxOverlap;
  iouThreshold: number;
  k: number[];
  allowMissing: boolean;
}

export interface EvalRefcocoReport {
  rows: RefexpDatasetPrecision[];
  match: BoxOverlap;
  threshold: number;
  predictionFormat: PredictionFormat;
  /** Expressions with no entry in the predictions (counted as misses under --allow-missing). */
  missing: number;
  unknownImageIds: number;
}

export async function evalRefcoco(options: EvalRefcocoOptions, log: Logger): Promise<EvalRefcocoReport> {
  const clock = stopwatch();
  const groundTruth = await readRefexpAnnotations(options.annotations);
  log.debug(`${options.annotations}: ${groundTruth.imageIds.length} expressions in ${groundTruth.datasetNames.join(", ")} (${clock.lap()})`);
  const predictions = await readBoxPredictions(options.predictions, groundTruth.indexOfImageId);
  log.debug(`${options.predictions}: ${predictions.scores.length} boxes, ${predictions.format} (${clock.lap()})`);

  const missingIds = groundTruth.imageIds.filter((_, e) => !predictions.listed[e]);
  if (missingIds.length > 0 && !options.allowMissing) {
    throw new InputError(
      options.predictions,
      undefined,
      `no predictions for ${missingIds.length} of ${groundTruth.imageIds.length} expressions (image ids ${listSome(missingIds)}); ` +
        "pass --allow-missing to count them as misses",
    );
  }
  if (missingIds.length > 0) log.warn(`${missingIds.length} expressions have no predictions and count as misses (image ids ${listSome(missingIds)})`);
  const unknown = predictions.unknownImageIds;
  if (unknown.count > 0) {
    log.warn(`${options.predictions}: ${unknown.count} predictions name image ids not in ${options.annotations} (${listSome(unknown.examples, unknown.count)}); ignored`);
  }

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

export function refcocoJson(report: EvalRefcocoReport): Record<string, Record<string, number>> {
  return Object.fromEntries(
    report.rows.map((row) => [row.dataset, { ...Object.fromEntries(row.precisionAt.map(({ k, precision }) => [`P@${k}`, precision])), count: row.count }]),
  );
}

export function refcocoTable(report: EvalRefcocoReport): string {
  const ks = report.rows[0]?.precisionAt.map(({ k }) => k) ?? [];
  const header = ["dataset", ...ks.map((k) => `P@${k} %`), "count"];
  const rows = report.rows.map((row) => [row.dataset, ...row.precisionAt.map(({ precision }) => percent(precision)), String(row.count)]);
  const title = `Precision@k, a hit when ${report.match === "giou" ? "GIoU" : "IoU"} >= ${report.threshold}` +
    (report.missing ? ` (${report.missing} expressions without predictions counted as misses)` : "");
  return `${title}\n${formatTable(header, rows)}`;
}

const EXAMPLES = `
Matching:
  --match iou   (default) IoU >= threshold: the community standard (GLIP, Grounding DINO, mmdetection).
  --match giou  generalized IoU >= threshold: what MDETR's released evaluator (datasets/refexp.py)
                computes, and so the numbers in the MDETR paper.

Predictions (detected by shape):
  COCO results  [{"image_id": 768, "bbox": [x, y, w, h], "score": 0.9}, ...]
  MDETR dict    {"768": {"boxes": [[x1, y1, x2, y2], ...], "scores": [...]}}

Examples:
  $ mdetr eval refcoco --annotations finetune_refcoco_testA.json --predictions preds.json
  $ mdetr eval refcoco --annotations finetune_refcocog_val.json --predictions preds.json --match giou --json results.json
  $ mdetr eval refcoco --annotations ann.json --predictions preds.json --k 1,5 --allow-missing --json -
`;

export function registerEvalRefcoco(evalCommand: Command, context: CommandContext): void {
  evalCommand
    .command("refcoco")
    .description("RefCOCO/RefCOCO+/RefCOCOg precision@k of ranked box predictions (with --match giou: MDETR's evaluator, number for number)")
    .requiredOption("--annotations <file>", "MDETR fine-tuning annotations (finetune_refcoco_testA.json, ...)")
    .requiredOption("--predictions <file>", "predictions: COCO results list or MDETR dict")
    .option("--match <kind>", "box match: iou or giou (see below)", "iou")
    .option("--iou-threshold <t>", "a box matches at overlap >= t", "0.5")
    .option("--k <list>", "ranks to report, comma-separated", "1,5,10")
    .option("--allow-missing", "count expressions without predictions as misses instead of failing")
    .option(...JSON_OPTION)
    .addHelpText("after", EXAMPLES)
    .action(async (raw: Record<string, string | boolean | undefined>) => {
      const match = parseChoice("--match", String(raw["match"]), ["iou", "giou"] as const);
      const options: EvalRefcocoOptions = {
        annotations: String(raw["annotations"]),
        predictions: String(raw["predictions"]),
        match,
        iouThreshold: parseNumberIn("--iou-threshold", String(raw["iouThreshold"]), match === "giou" ? -1 : 0, 1),
        k: parseKList("--k", String(raw["k"])),
        allowMissing: raw["allowMissing"] === true,
      };
      await checkOutputTarget("--json", raw["json"] as string | undefined);
      const report = await evalRefcoco(options, context.log());
      await emitResult({ table: refcocoTable(report), json: refcocoJson(report) }, raw["json"] as string | undefined);
    });
}
