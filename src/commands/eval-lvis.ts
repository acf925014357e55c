/** `mdetr eval lvis`: LVIS box AP, standard (lvis-api) or fixed (Dave et al. 2021, as MDETR). */
import type { Command } from "commander";
import { readLvisGroundTruth, FREQUENCIES, type LvisGroundTruth } from "../datasets/lvis-annotations.js";
import { readDetections } from "../datasets/lvis-detections.js";
import { evaluateLvis, type LvisEvaluation } from "../metrics/lvis/evaluate.js";
import type { Selection } from "../metrics/lvis/select.js";
import { writeFileAtomic } from "../util/atomic-write.js";
import { checkOutputTarget, emitResult } from "../util/emit.js";
import { stopwatch, type Logger } from "../util/log.js";
import { formatTable } from "../util/table.js";
import type { CommandContext } from "./context.js";
import { JSON_OPTION, listSome, parseChoice, parseWholeNumber } from "./option-parsers.js";

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

export async function evalLvis(options: EvalLvisOptions, log: Logger): Promise<EvalLvisReport> {
  const clock = stopwatch();
  const groundTruth = await readLvisGroundTruth(options.annotations);
  log.debug(`${options.annotations}: ${groundTruth.imageIds.length} images, ${groundTruth.categoryIds.length} categories, ${groundTruth.annotations.area.length} annotations (${clock.lap()})`);
  const detections = await readDetections(options.predictions, groundTruth, options.ignoreUnknownImages);
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

export function protocolLine(selection: Selection): string {
  return selection.protocol === "fixed"
    ? `fixed AP (Dave et al. 2021, as MDETR reports it): the ${selection.detsPerCategory} best detections per category over the whole set, no per-image cap`
    : `standard AP (lvis-api): at most ${selection.maxDets} detections per image`;
}

export function lvisTable(report: EvalLvisReport): string {
  const rows = Object.entries(report.evaluation.metrics).map(([key, value]) => [key, value === -1 ? "-1 (none)" : (100 * value).toFixed(2)]);
  return `${protocolLine(report.selection)}\n${formatTable(["metric", "%"], rows)}`;
}

function csvField(text: string): string {
  return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function perCategoryCsv(report: EvalLvisReport): string {
  const { groundTruth: gt, evaluation } = report;
  const lines = ["id,name,frequency,num_gt,num_dets,AP,AP50"];
  evaluation.perCategory.forEach((row, c) => {
    lines.push([String(gt.categoryIds[c]), csvField(gt.categoryNames[c]!), FREQUENCIES[gt.frequency[c]!]!, String(row.numGt), String(row.numDets), String(row.ap), String(row.ap50)].join(","));
  });
  return `${lines.join("\n")}\n`;
}

const HELP = `
Protocols:
  --ap fixed     (default) the current LVIS protocol and what MDETR reports ("fixed AP", Dave et al.
                 2021, MDETR's LvisEvaluatorFixedAP): the --dets-per-category best detections of each
                 category over the whole set, no per-image cap.
  --ap standard  lvis-api's LVISEval (iou_type="bbox"): at most --max-dets detections per image.
Keys: AP AP50 AP75 APs APm APl APr APc APf AR@300 ARs@300 ARm@300 ARl@300 (as lvis-api names them);
-1 means nothing to average (no ground truth in that group).

Examples:
  $ mdetr eval lvis --annotations lvis_v1_minival.json --predictions dets.json
  $ mdetr eval lvis --annotations lvis_v1_val.json --predictions dets.json --ap standard --json results.json
  $ mdetr eval lvis --annotations lvis_v1_val.json --predictions dets.json --per-category per_class.csv
`;

export function registerEvalLvis(evalCommand: Command, context: CommandContext): void {
  evalCommand
    .command("lvis")
    .description("LVIS box AP (fixed or standard), identical to lvis-api / MDETR, streaming files of any size")
    .requiredOption("--annotations <file>", "LVIS v1 ground truth (lvis_v1_val.json, ...)")
    .requiredOption("--predictions <file>", "detections: a COCO results list [{image_id, category_id, bbox, score}]")
    .option("--ap <protocol>", "fixed or standard", "fixed")
    .option("--max-dets <n>", "standard AP: detections kept per image (-1: no cap)", "300")
    .option("--dets-per-category <n>", "fixed AP: detections kept per category", "10000")
    .option("--per-category <file>", "write per-category AP as CSV")
    .option("--ignore-unknown-images", "skip detections for images not in the ground truth (with a warning)")
    .option(...JSON_OPTION)
    .addHelpText("after", HELP)
    .action(async (raw: Record<string, string | boolean | undefined>) => {
      const options: EvalLvisOptions = {
        annotations: String(raw["annotations"]),
        predictions: String(raw["predictions"]),
        protocol: parseChoice("--ap", String(raw["ap"]), ["fixed", "standard"] as const),
        maxDets: parseWholeNumber("--max-dets", String(raw["maxDets"]), -1),
        detsPerCategory: parseWholeNumber("--dets-per-category", String(raw["detsPerCategory"]), 1),
        ignoreUnknownImages: raw["ignoreUnknownImages"] === true,
      };
      const perCategory = raw["perCategory"] as string | undefined;
      await checkOutputTarget("--json", raw["json"] as string | undefined);
      await checkOutputTarget("--per-category", perCategory);
      const report = await evalLvis(options, context.log());
      if (perCategory) await writeFileAtomic(perCategory, [perCategoryCsv(report)]);
      await emitResult({ table: lvisTable(report), json: report.evaluation.metrics }, raw["json"] as string | undefined);
    });
}
