/**
 * `infer lvis` as a function: a model over every LVIS picture with every category, written as the
 * COCO results both LVIS protocols read. Prompts: per category (MDETR scripts/eval_lvis.py: each
 * category's clean_name its own prompt) or chunked (GLIP: 40 categories per prompt, joined by
 * ". ", a category's score the mean over its tokens). All detections D (pictures by id, then
 * prompt and category order, then query) go through the keeping rule (metrics/lvis/keep.ts), so
 * the file holds what the evaluators read of D and no more.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { withAtomicFile } from "../core/atomic-write.js";
import { InputError, UsageError } from "../core/errors.js";
import { Growable } from "../core/growable.js";
import { readLvisPictures, type LvisPicture } from "../formats/lvis/annotations.js";
import { cleanName } from "../formats/lvis/clean-name.js";
import type { RunContext } from "../json/run-context.js";
import { LvisKeeper, type KeepCaps } from "../metrics/lvis/keep.js";
import { positiveTokens } from "./positive-map.js";
import { allQueries, meanOverTokens, queryBox, requireFiniteScores, type Scoring } from "./postprocess.js";
import type { Head, ImageJob, StageTimes } from "./run-folder.js";
import { openModel, type ModelSession } from "./session.js";
import { runBenchmark, shardPictures, type BenchmarkRunOptions } from "./benchmark.js";
import { loadTokenizer, type EncodedPrompt, type PromptTokenizer } from "./tokenizer.js";

export type LvisPrompts = "per-category" | "chunked";

export interface InferLvisOptions extends KeepCaps, BenchmarkRunOptions {
  annotations: string;
  prompts: LvisPrompts;
  chunkSize: number;
}

export interface InferLvisReport {
  pictures: number;
  prompts: number;
  /** |D| and how many were written. */
  detections: number;
  kept: number;
  device: string;
  scoring: Scoring;
  times: StageTimes;
}

/** A prompt and the categories (indices, sorted by id) it asks for, each with its positive tokens. */
interface CategoryPrompt {
  prompt: EncodedPrompt;
  categories: number[];
  tokens: number[][];
}

/** `DIR/<last two parts of coco_url>` when that file exists, else `DIR/<file_name>`. */
function picturePath(images: string, annotations: string, picture: LvisPicture): string {
  for (const name of [picture.fromCocoUrl, picture.fileName]) if (name !== undefined && existsSync(join(images, name))) return name;
  const tried = [picture.fromCocoUrl, picture.fileName].filter((n) => n !== undefined).map((n) => join(images, n!));
  throw new InputError(annotations, undefined, `image ${picture.id}: no picture at ${tried.join(" or ")}`);
}

async function buildPrompts(options: InferLvisOptions, names: readonly string[], tokenizer: PromptTokenizer, model: ModelSession, scoring: Scoring): Promise<CategoryPrompt[]> {
  const limit = model.positions === undefined ? Infinity : scoring === "mdetr" ? model.positions - 1 : model.positions;
  const prompts: CategoryPrompt[] = [];
  if (options.prompts === "per-category") {
    for (const [c, name] of names.entries()) {
      const prompt = await tokenizer.encode(cleanName(name));
      if (prompt.ids.length > limit) throw new UsageError(`the prompt of category ${JSON.stringify(name)} is ${prompt.ids.length} tokens long; this model takes at most ${limit}`);
      prompts.push({ prompt, categories: [c], tokens: [] });
    }
    return prompts;
  }
  // GLIP's create_queries_and_maps: clean names joined by ". " (none after the last), a span each.
  for (let first = 0; first < names.length; first += options.chunkSize) {
    const chunk = names.slice(first, first + options.chunkSize);
    let text = "";
    const spans: [number, number][] = [];
    chunk.forEach((name, i) => {
      const clean = cleanName(name);
      const start = [...text].length;
      text += clean;
      spans.push([start, start + [...clean].length]);
      if (i + 1 < chunk.length) text += ". ";
    });
    const prompt = await tokenizer.encode(text);
    if (prompt.ids.length > limit) {
      throw new UsageError(`the chunk of categories ${first + 1}-${first + chunk.length} is ${prompt.ids.length} tokens long; this model takes at most ${limit} (a smaller --chunk-size fits)`);
    }
    prompts.push({ prompt, categories: chunk.map((_, i) => first + i), tokens: spans.map((span) => positiveTokens(prompt, [span])) });
  }
  return prompts;
}

/** One picture's detections so far, in D's order. */
class PictureDetections {
  readonly category = new Growable(Int32Array, 1 << 12);
  readonly bbox = new Growable(Float64Array, 1 << 14);
  readonly score = new Growable(Float64Array, 1 << 12);

  add(category: number, box: [number, number, number, number], score: number): void {
    this.category.push(category);
    // COCO results: [x, y, w, h] = [x1, y1, x2 - x1, y2 - y1].
    this.bbox.push(box[0]);
    this.bbox.push(box[1]);
    this.bbox.push(box[2] - box[0]);
    this.bbox.push(box[3] - box[1]);
    this.score.push(score);
  }
}

export async function inferLvis(options: InferLvisOptions, { log, progress: progressBar, read }: RunContext): Promise<InferLvisReport> {
  const { pictures: all, categories } = await readLvisPictures(options.annotations, read);
  const pictures = shardPictures(all, options.shard);
  const files = pictures.map((picture) => picturePath(options.images, options.annotations, picture));
  const tokenizer = await loadTokenizer(options.tokenizer, read.inputs);
  const model = await openModel(options.model, options.device, options.verbose, read.inputs);
  const scoring = options.scoring ?? model.defaultScoring;
  const prompts = await buildPrompts(options, categories.map((c) => c.name), tokenizer, model, scoring);
  log.debug(`${pictures.length} pictures x ${prompts.length} prompts (${options.prompts}), ${scoring} scoring`);

  // Job j is picture plan[j].picture with prompt plan[j].prompt: D's order.
  const jobs: ImageJob[] = [];
  const plan: { picture: number; prompt: number }[] = [];
  files.forEach((file, p) =>
    prompts.forEach((prompt, k) => {
      jobs.push({ file, prompt: prompt.prompt, key: String(plan.length) });
      plan.push({ picture: p, prompt: k });
    }),
  );
  const keeper = new LvisKeeper(categories.length, options);
  // The detections of the picture being run, in D's order; the heads append to it directly.
  let current = new PictureDetections();
  let detections = 0;
  let keepMs = 0;
  const head: Head<void> = (outputs, job, image) => {
    const prompt = prompts[plan[Number(job.key)]!.prompt]!;
    if (options.prompts === "per-category") {
      const { boxes, scores } = allQueries(outputs, job.prompt, image, scoring);
      requireFiniteScores(options.model, scores, job.file);
      boxes.forEach((box, q) => current.add(prompt.categories[0]!, box, scores[q]!));
      return;
    }
    const scores = meanOverTokens(outputs, scoring, prompt.tokens);
    // NaN marks a category without tokens (no detection); the others must be finite.
    prompt.tokens.forEach((tokens, i) => tokens.length > 0 && requireFiniteScores(options.model, scores.subarray(i * outputs.queries, (i + 1) * outputs.queries), job.file));
    const boxes = Array.from({ length: outputs.queries }, (_, q) => queryBox(outputs, q, image));
    prompt.categories.forEach((c, i) => {
      for (let q = 0; q < outputs.queries; q++) {
        const score = scores[i * outputs.queries + q]!;
        // A category none of whose characters has a token (GLIP: no positive token) has no detection.
        if (!Number.isNaN(score)) current.add(c, boxes[q]!, score);
      }
    });
  };
  const times = await runBenchmark(jobs, model, tokenizer, options, { label: "prompts", progress: progressBar }, head, (_, job) => {
    const { picture, prompt } = plan[Number(job.key)]!;
    if (prompt < prompts.length - 1) return;
    // The picture's last prompt: all of its detections go through the keeping rule.
    detections += current.score.length;
    const started = performance.now();
    keeper.addImage(picture, { category: current.category.view(), bbox: current.bbox.view(), score: current.score.view() });
    keepMs += performance.now() - started;
    current = new PictureDetections();
  });
  const started = performance.now();
  const kept = keeper.result();
  keepMs += performance.now() - started;
  const per = (ms: number) => `${(ms / Math.max(1, pictures.length)).toFixed(1)} ms`;
  log.debug(`time per picture: decode ${per(times.decode)}, tensors ${per(times.preprocess)}, model ${per(times.model)}, heads ${per(times.postprocess)}, keeping rule ${per(keepMs)}`);
  await withAtomicFile(options.out, (out) => {
    out.write("[");
    for (let d = 0; d < kept.score.length; d++) {
      const b = 4 * d;
      const box = `[${kept.bbox[b]},${kept.bbox[b + 1]},${kept.bbox[b + 2]},${kept.bbox[b + 3]}]`;
      out.write(`${d === 0 ? "" : ","}{"image_id":${pictures[kept.image[d]!]!.id},"category_id":${categories[kept.category[d]!]!.id},"bbox":${box},"score":${kept.score[d]}}`);
    }
    out.write("]\n");
  });
  return { pictures: pictures.length, prompts: prompts.length, detections, kept: kept.score.length, device: model.device, scoring, times };
}
