/**
 * Flickr30k Entities phrase grounding: read the split and the predictions, pair each evaluated
 * phrase with its ranked boxes as MDETR's Flickr30kEntitiesRecallEvaluator does, score recall@k.
 */
import { InputError } from "../core/errors.js";
import { stopwatch, type Logger } from "../core/log.js";
import { listSome } from "../core/text.js";
import { loadFlickrSplit, type FlickrSplit, type FlickrSplitName } from "../formats/flickr30k/split.js";
import { streamFlickrPredictions, type FlickrPrediction } from "../formats/flickr30k/predictions.js";
import type { RunContext } from "../json/run-context.js";
import { FlickrRecallTally, type FlickrRecall } from "../metrics/flickr30k.js";
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
 * Pairs predictions with evaluated sentences as the reference does, one prediction at a time as
 * they are read: the first prediction of a sentence wins, predictions for sentences outside the
 * evaluated set are ignored (both with a warning here), a wrong number of box lists or a missing
 * sentence is an error. Each paired sentence's phrases are scored at once (`tally`), so no box
 * outlives its prediction.
 */
class SentencePairing {
  private readonly expected: Set<string>;
  private readonly seen = new Set<string>();
  private duplicates = 0;
  private outside = 0;

  constructor(
    private readonly split: FlickrSplit,
    readonly tally: FlickrRecallTally,
  ) {
    this.expected = new Set(split.evaluated);
  }

  /** `id`: the prediction's `<image>_<sentence>`. */
  take(prediction: FlickrPrediction, id: string): void {
    if (this.seen.has(id)) {
      this.duplicates++;
      return;
    }
    if (!this.expected.has(id)) {
      // MDETR writes an empty entry for a sentence without a scored phrase: nothing to ignore there.
      if (prediction.boxes.length > 0) this.outside++;
      return;
    }
    const phrases = this.split.sentences.get(prediction.imageId)![prediction.sentenceId]!;
    if (prediction.boxes.length !== phrases.length) {
      throw new InputError(prediction.file, `${prediction.at}.boxes`, `image ${prediction.imageId}, sentence ${prediction.sentenceId}: expected ${phrases.length} box lists (one per phrase with a ground-truth box), got ${prediction.boxes.length}`);
    }
    const empty = prediction.boxes.findIndex((b) => b.length === 0);
    if (empty >= 0) throw new InputError(prediction.file, `${prediction.at}.boxes[${empty}]`, `image ${prediction.imageId}, sentence ${prediction.sentenceId}: no boxes for the phrase "${phrases[empty]!.phrase}"`);
    this.seen.add(id);
    const boxes = this.split.boxes.get(prediction.imageId)!;
    phrases.forEach((phrase, p) => this.tally.add(phrase.types, prediction.boxes[p]!, boxes.get(phrase.entityId)!));
  }

  /** After the last prediction: the missing sentences are an error, the ignored ones a warning. */
  finish(label: string, log: Logger): void {
    const missing = this.split.evaluated.filter((id) => !this.seen.has(id));
    if (missing.length > 0) {
      throw new InputError(label, undefined, `no predictions for ${missing.length} of ${this.split.evaluated.length} evaluated sentences (image_sentence ${listSome(missing)})`);
    }
    if (this.duplicates || this.outside) {
      log.warn(`${label}: ignored ${this.duplicates} repeated predictions (the first one counts) and ${this.outside} predictions for sentences outside the evaluated set (other splits, or no phrase with a box)`);
    }
  }
}

export async function evalFlickr30k(options: EvalFlickrOptions, { log, read }: RunContext): Promise<EvalFlickrReport> {
  const clock = stopwatch();
  const split = await loadFlickrSplit(options.flickrDir, options.split, options.merged, read.inputs);
  log.debug(`${options.split}: ${split.imageIds.length} images, ${split.evaluated.length} sentences, ${split.phraseCount} phrases with boxes (${clock.lap()})`);
  // Shards hold distinct sentences; within one file a repeated sentence keeps its first prediction.
  const owners = new ShardOwners<string>(options.predictions);
  const pairing = new SentencePairing(split, new FlickrRecallTally(options.k, options.iouThreshold));
  const what = (id: string) => `the prediction for image_sentence ${id}`;
  for (const [f, file] of options.predictions.entries()) {
    let count = 0;
    await streamFlickrPredictions(file, read, (p) => {
      count++;
      const id = `${p.imageId}_${p.sentenceId}`;
      owners.claim(id, f, what);
      pairing.take(p, id);
    });
    log.debug(`${file}: ${count} predictions, scored as read (${clock.lap()})`);
  }
  pairing.finish(shardLabel(options.predictions), log);
  const recall = pairing.tally.result();
  log.debug(`recall (${clock.lap()})`);
  return { recall, sentences: split.evaluated.length, phrases: split.phraseCount, merged: options.merged };
}
