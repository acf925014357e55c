/**
 * Flickr30k Entities phrase grounding: read the split and the predictions, pair each evaluated
 * phrase with its ranked boxes as MDETR's Flickr30kEntitiesRecallEvaluator does, score recall@k.
 */
import { InputError } from "../core/errors.js";
import { stopwatch, type Logger } from "../core/log.js";
import { listSome } from "../core/text.js";
import { loadFlickrSplit, type FlickrSplit, type FlickrSplitName } from "../formats/flickr30k/split.js";
import { readFlickrPredictions, type FlickrPrediction } from "../formats/flickr30k/predictions.js";
import type { RunContext } from "../json/run-context.js";
import { flickrRecall, type FlickrRecall, type PhraseToScore } from "../metrics/flickr30k.js";
import { ShardOwners, shardLabel } from "./shards.js";

export interface EvalFlickrOptions {
  flickrDir: string;
  split: FlickrSplitName;
  /** One file, or the shards of one run (each sentence in one of them). */
  predictions: string[];
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
export function phrasesToScore(label: string, split: FlickrSplit, predictions: readonly FlickrPrediction[], log: Logger): PhraseToScore[] {
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
      // MDETR writes an empty entry for a sentence without a scored phrase: nothing to ignore there.
      if (prediction.boxes.length > 0) outside++;
      continue;
    }
    const phrases = split.sentences.get(prediction.imageId)![prediction.sentenceId]!;
    if (prediction.boxes.length !== phrases.length) {
      throw new InputError(prediction.file, `${prediction.at}.boxes`, `image ${prediction.imageId}, sentence ${prediction.sentenceId}: expected ${phrases.length} box lists (one per phrase with a ground-truth box), got ${prediction.boxes.length}`);
    }
    const empty = prediction.boxes.findIndex((b) => b.length === 0);
    if (empty >= 0) throw new InputError(prediction.file, `${prediction.at}.boxes[${empty}]`, `image ${prediction.imageId}, sentence ${prediction.sentenceId}: no boxes for the phrase "${phrases[empty]!.phrase}"`);
    seen.set(id, prediction);
  }
  const missing = split.evaluated.filter((id) => !seen.has(id));
  if (missing.length > 0) {
    throw new InputError(label, undefined, `no predictions for ${missing.length} of ${split.evaluated.length} evaluated sentences (image_sentence ${listSome(missing)})`);
  }
  if (duplicates || outside) {
    log.warn(`${label}: ignored ${duplicates} repeated predictions (the first one counts) and ${outside} predictions for sentences outside the evaluated set (other splits, or no phrase with a box)`);
  }
  return split.evaluated.flatMap((id) => {
    const prediction = seen.get(id)!;
    const phrases = split.sentences.get(prediction.imageId)![prediction.sentenceId]!;
    const boxes = split.boxes.get(prediction.imageId)!;
    return phrases.map((phrase, p) => ({ types: phrase.types, predicted: prediction.boxes[p]!, groundTruth: boxes.get(phrase.entityId)! }));
  });
}

export async function evalFlickr30k(options: EvalFlickrOptions, { log, read }: RunContext): Promise<EvalFlickrReport> {
  const clock = stopwatch();
  const split = await loadFlickrSplit(options.flickrDir, options.split, options.merged, read.inputs);
  log.debug(`${options.split}: ${split.imageIds.length} images, ${split.evaluated.length} sentences, ${split.phraseCount} phrases with boxes (${clock.lap()})`);
  // Shards hold distinct sentences; within one file a repeated sentence keeps its first prediction.
  const owners = new ShardOwners<string>(options.predictions);
  const predictions: FlickrPrediction[] = [];
  for (const [f, file] of options.predictions.entries()) {
    const part = await readFlickrPredictions(file, read);
    log.debug(`${file}: ${part.length} predictions (${clock.lap()})`);
    for (const p of part) owners.claim(`${p.imageId}_${p.sentenceId}`, f, (id) => `the prediction for image_sentence ${id}`);
    predictions.push(...part);
  }
  const phrases = phrasesToScore(shardLabel(options.predictions), split, predictions, log);
  const recall = flickrRecall(phrases, options.k, options.iouThreshold);
  log.debug(`recall (${clock.lap()})`);
  return { recall, sentences: split.evaluated.length, phrases: phrases.length, merged: options.merged };
}
