/** `mdetr eval flickr30k`: Flickr30k Entities phrase-grounding recall@k, as MDETR's evaluator. */
import type { Command } from "commander";
import { InputError } from "../errors.js";
import { loadFlickrSplit, type FlickrSplit, type FlickrSplitName } from "../datasets/flickr-entities.js";
import { readFlickrPredictions, type FlickrPrediction } from "../datasets/flickr-predictions.js";
import { flickrRecall, type FlickrRecall, type PhraseToScore } from "../metrics/flickr-recall.js";
import { checkOutputTarget, emitResult } from "../util/emit.js";
import { stopwatch, type Logger } from "../util/log.js";
import { formatTable, percent } from "../util/table.js";
import type { CommandContext } from "./context.js";
import { JSON_OPTION, listSome, parseChoice, parseKList, parseNumberIn } from "./option-parsers.js";

export interface EvalFlickrOptions {
  flickrDir: string;
  split: FlickrSplitName;
  predictions: string;
  merged: boolean;
  iouThreshold: number;
  k: number[];
}

export interface EvalFlickrReport {
  recall: FlickrRecall;
  sentences: number;
  phrases: number;
  merged: boolean;
}

/**
 * Pairs predictions with evaluated sentences as the reference does: the first prediction of a
 * sentence wins, predictions for sentences outside the evaluated set are ignored (both with a
 * warning here), a wrong number of box lists or a missing sentence is an error.
 */
export function phrasesToScore(file: string, split: FlickrSplit, predictions: readonly FlickrPrediction[], log: Logger): PhraseToScore[] {
  const expected = new Set(split.evaluated);
  const seen = new Map<string, FlickrPrediction>();
  let duplicates = 0;
  let outside = 0;
  for (const prediction of predictions) {
    const id = `${prediction.imageId}_${prediction.sentenceId}`;
    if (seen.has(id)) {
      duplicates++;
      continue;
    }
    if (!expected.has(id)) {
      outside++;
      continue;
    }
    const phrases = split.sentences.get(prediction.imageId)![prediction.sentenceId]!;
    if (prediction.boxes.length !== phrases.length) {
      throw new InputError(file, `${prediction.at}.boxes`, `image ${prediction.imageId}, sentence ${prediction.sentenceId}: expected ${phrases.length} box lists (one per phrase with a ground-truth box), got ${prediction.boxes.length}`);
    }
    const empty = prediction.boxes.findIndex((b) => b.length === 0);
    if (empty >= 0) throw new InputError(file, `${prediction.at}.boxes[${empty}]`, `image ${prediction.imageId}, sentence ${prediction.sentenceId}: no boxes for the phrase "${phrases[empty]!.phrase}"`);
    seen.set(id, prediction);
  }
  const missing = split.evaluated.filter((id) => !seen.has(id));
  if (missing.length > 0) {
    throw new InputError(file, undefined, `no predictions for ${missing.length} of ${split.evaluated.length} evaluated sentences (image_sentence ${listSome(missing)})`);
  }
  if (duplicates || outside) {
    log.warn(`${file}: ignored ${duplicates} repeated predictions (the first one counts) and ${outside} predictions for sentences outside the evaluated set (other splits, or no phrase with a box)`);
  }
  return split.evaluated.flatMap((id) => {
    const prediction = seen.get(id)!;
    const phrases = split.sentences.get(prediction.imageId)![prediction.sentenceId]!;
    const boxes = split.boxes.get(prediction.imageId)!;
    return phrases.map((phrase, p) => ({ phrase, predicted: prediction.boxes[p]!, groundTruth: boxes.get(phrase.entityId)! }));
  });
}

export async function evalFlickr30k(options: EvalFlickrOptions, log: Logger): Promise<EvalFlickrReport> {
  const clock = stopwatch();
  const split = await loadFlickrSplit(options.flickrDir, options.split, options.merged);
  log.debug(`${options.split}: ${split.imageIds.length} images, ${split.evaluated.length} sentences, ${split.phraseCount} phrases with boxes (${clock.lap()})`);
  const predictions = await readFlickrPredictions(options.predictions);
  log.debug(`${options.predictions}: ${predictions.length} predictions (${clock.lap()})`);
  const phrases = phrasesToScore(options.predictions, split, predictions, log);
  const recall = flickrRecall(phrases, options.k, options.iouThreshold);
  log.debug(`recall (${clock.lap()})`);
  return { recall, sentences: split.evaluated.length, phrases: phrases.length, merged: options.merged };
}

export function flickrJson(report: EvalFlickrReport): Record<string, Record<string, number>> {
  const json: Record<string, Record<string, number>> = {};
  for (const { k, byType } of report.recall.recallAt) json[`R@${k}`] = Object.fromEntries(byType);
  json["upper_bound"] = Object.fromEntries(report.recall.upperBound);
  return json;
}

export function flickrTable(report: EvalFlickrReport): string {
  const categories = [...report.recall.upperBound.keys()];
  const rows = [
    ...report.recall.recallAt.map(({ k, byType }) => [`R@${k}`, ...categories.map((c) => percent(byType.get(c)!))]),
    ["Upper bound", ...categories.map((c) => percent(report.recall.upperBound.get(c)!))],
  ];
  const title = `Recall@k (%) of ${report.phrases} phrases in ${report.sentences} sentences, ${report.merged ? "merged boxes (one box per entity)" : "separate boxes"}`;
  return `${title}\n${formatTable(["", ...categories], rows)}`;
}

const HELP = `
Protocols:
  (default)  any of the entity's ground-truth boxes may match
  --merged   an entity's boxes are replaced by their enclosing box (Plummer et al.)

Predictions (MDETR's format): [{"image_id": "1000092795", "sentence_id": 0,
  "boxes": [[[x1, y1, x2, y2], ...ranked...], ...one list per phrase with a box, in sentence order]}]

Examples:
  $ mdetr eval flickr30k --flickr-dir flickr30k_entities/ --split test --predictions preds.json
  $ mdetr eval flickr30k --flickr-dir flickr30k_entities/ --split val --predictions preds.json --merged --json -
`;

export function registerEvalFlickr30k(evalCommand: Command, context: CommandContext): void {
  evalCommand
    .command("flickr30k")
    .description("Flickr30k Entities phrase-grounding recall@k, identical to MDETR's evaluator")
    .requiredOption("--flickr-dir <dir>", "the dataset as distributed: {train,val,test}.txt, Annotations/, Sentences/")
    .requiredOption("--predictions <file>", "predictions in MDETR's format")
    .option("--split <split>", "test, val or train", "test")
    .option("--merged", "merged-box protocol: one enclosing box per entity")
    .option("--iou-threshold <t>", "a box matches at IoU >= t", "0.5")
    .option("--k <list>", "ranks to report, comma-separated", "1,5,10")
    .option(...JSON_OPTION)
    .addHelpText("after", HELP)
    .action(async (raw: Record<string, string | boolean | undefined>) => {
      const options: EvalFlickrOptions = {
        flickrDir: String(raw["flickrDir"]),
        split: parseChoice("--split", String(raw["split"]), ["test", "val", "train"] as const),
        predictions: String(raw["predictions"]),
        merged: raw["merged"] === true,
        iouThreshold: parseNumberIn("--iou-threshold", String(raw["iouThreshold"]), 0, 1),
        k: parseKList("--k", String(raw["k"])),
      };
      await checkOutputTarget("--json", raw["json"] as string | undefined);
      const report = await evalFlickr30k(options, context.log());
      await emitResult({ table: flickrTable(report), json: flickrJson(report) }, raw["json"] as string | undefined);
    });
}
