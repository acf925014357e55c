/**
 * `infer flickr30k` as a function: every sentence of a Flickr30k Entities split through the model
 * (the caption and phrase spans as MDETR's flickr_combined.py builds them; pictures decoded as
 * stored, each once for its sentences), each scored phrase's Q boxes ranked by the highest
 * probability over its positive tokens (PostProcessFlickr), written in eval flickr30k's format.
 */
import { join } from "node:path";
import { writeFileAtomic } from "../core/atomic-write.js";
import { InputError } from "../core/errors.js";
import { phraseSpan } from "../formats/flickr30k/sentences.js";
import { loadFlickrSplit, type FlickrSplitName } from "../formats/flickr30k/split.js";
import type { RunContext } from "../json/run-context.js";
import { positiveTokens } from "./positive-map.js";
import { queryBox, tokenProbabilities, type Scoring } from "./postprocess.js";
import type { Head, ImageJob, StageTimes } from "./run-folder.js";
import { openModel } from "./session.js";
import { openProgressLog, runBenchmark, shardPictures, type BenchmarkRunOptions } from "./benchmark.js";
import { loadTokenizer, type EncodedPrompt } from "./tokenizer.js";

export interface InferFlickrOptions extends BenchmarkRunOptions {
  flickrDir: string;
  split: FlickrSplitName;
  /** Continue an interrupted run from its progress log (settings checked). */
  resume: boolean;
}

export interface InferFlickrReport {
  sentences: number;
  phrases: number;
  pictures: number;
  device: string;
  scoring: Scoring;
  times: StageTimes;
}

interface SentenceJob {
  imageId: string;
  sentenceId: number;
  /** Per scored phrase: its positive tokens. */
  tokens: number[][];
}

/** Flickr ids are numbers written as text: sorted as numbers when they all are. */
function byId(a: string, b: string): number {
  return /^\d+$/.test(a) && /^\d+$/.test(b) ? Number(a) - Number(b) : a < b ? -1 : a > b ? 1 : 0;
}

export async function inferFlickr30k(options: InferFlickrOptions, { log, progress: progressBar, read }: RunContext): Promise<InferFlickrReport> {
  const split = await loadFlickrSplit(options.flickrDir, options.split, false, read.inputs);
  const pictures = new Set(shardPictures([...split.imageIds].sort(byId), options.shard));
  const tokenizer = await loadTokenizer(options.tokenizer, read.inputs);
  const model = await openModel(options.model, options.device, options.verbose, read.inputs);
  const scoring = options.scoring ?? model.defaultScoring;
  const limit = model.positions === undefined ? Infinity : scoring === "mdetr" ? model.positions - 1 : model.positions;

  // Every sentence gets an entry, in split order; only those with a scored phrase need the model.
  const entries = new Map<string, string>();
  const jobs: ImageJob[] = [];
  // By `<image>_<sentence>`, the key of the job and of the progress log's lines.
  const sentenceJobs = new Map<string, SentenceJob>();
  let phraseCount = 0;
  const encoded = new Map<string, EncodedPrompt>();
  for (const imageId of split.imageIds) {
    if (!pictures.has(imageId)) continue;
    const parsed = split.parsed.get(imageId)!;
    for (const [sentenceId, phrases] of split.sentences.get(imageId)!.entries()) {
      const key = `${imageId}_${sentenceId}`;
      entries.set(key, JSON.stringify({ image_id: imageId, sentence_id: sentenceId, boxes: [] }));
      const caption = parsed[sentenceId]!.sentence;
      const sentenceFile = join(options.flickrDir, "Sentences", `${imageId}.txt`);
      // flickr_combined.py asserts every phrase's span, scored or not, and stops at the first wrong one.
      for (const phrase of parsed[sentenceId]!.phrases) {
        if (!phraseSpan(caption, phrase)) throw new InputError(sentenceFile, `sentence ${sentenceId}`, `the phrase ${JSON.stringify(phrase.phrase)} is not where its words say (an empty word before it?), as MDETR's flickr_combined.py asserts`);
      }
      if (!phrases) continue;
      let prompt = encoded.get(caption);
      if (!prompt) {
        prompt = await tokenizer.encode(caption);
        if (prompt.ids.length > limit) throw new InputError(sentenceFile, `sentence ${sentenceId}`, `${prompt.ids.length} tokens long; this model takes at most ${limit}`);
        encoded.set(caption, prompt);
      }
      const tokens = phrases.map((phrase) => positiveTokens(prompt!, [phraseSpan(caption, phrase)!]));
      phraseCount += phrases.length;
      jobs.push({ file: `${imageId}.jpg`, prompt, key });
      sentenceJobs.set(key, { imageId, sentenceId, tokens });
    }
  }
  log.debug(`${entries.size} sentences (${jobs.length} with scored phrases) on ${pictures.size} pictures, ${scoring} scoring`);
  const progressLog = await openProgressLog(options, { command: "infer flickr30k", inputs: { flickr_dir: options.flickrDir }, settings: { split: options.split }, scoring, what: "sentences" }, { log, read });
  for (const [key, boxes] of progressLog.done) {
    const done = sentenceJobs.get(key);
    if (done) entries.set(key, JSON.stringify({ image_id: done.imageId, sentence_id: done.sentenceId, boxes }));
  }
  const todo = jobs.filter((job) => !progressLog.done.has(job.key!));
  const head: Head<number[][][]> = (outputs, job, image) => {
    const { tokens } = sentenceJobs.get(job.key!)!;
    const boxes = Array.from({ length: outputs.queries }, (_, q) => queryBox(outputs, q, image));
    const scores = tokens.map(() => new Float64Array(outputs.queries));
    for (let q = 0; q < outputs.queries; q++) {
      const p = tokenProbabilities(outputs.logits.subarray(q * outputs.positions, (q + 1) * outputs.positions), scoring);
      // PostProcessFlickr: max(positive_map * prob), the max over the phrase's tokens.
      tokens.forEach((list, i) => (scores[i]![q] = list.reduce((best, t) => Math.max(best, p[t]!), 0)));
    }
    return scores.map((s) => Array.from({ length: outputs.queries }, (_, q) => q).sort((a, b) => s[b]! - s[a]! || a - b).map((q) => boxes[q]!));
  };
  const times = await runBenchmark(todo, model, tokenizer, options, { label: "sentences", progress: progressBar, log: progressLog }, head, (boxes, job) => {
    const { imageId, sentenceId } = sentenceJobs.get(job.key!)!;
    entries.set(job.key!, JSON.stringify({ image_id: imageId, sentence_id: sentenceId, boxes }));
  });
  await writeFileAtomic(options.out, ["[", [...entries.values()].join(","), "]\n"]);
  await progressLog.finish();
  return { sentences: entries.size, phrases: phraseCount, pictures: pictures.size, device: model.device, scoring, times };
}
