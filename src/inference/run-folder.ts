/**
 * `infer dir` as a function: every image of a folder through the model, in batches, with the
 * pictures ahead prepared (prepare-pool.ts: worker threads) while the model runs on the current
 * batch. Per image it hands a result (or the reason it could not be read) to `onResult`, in image
 * order; it prints nothing.
 */
import { join } from "node:path";
import { UsageError } from "../core/errors.js";
import type { PreparedImage } from "./images.js";
import { openPreparer, prepareThreads, PreparerStopped, type PicturePreparer } from "./prepare-pool.js";
import { batchFeeds, runBatch, TensorBuffers } from "./batch.js";
import { postprocessImage, type Detection, type ImageOutputs, type PostprocessOptions } from "./postprocess.js";
import type { ModelSession } from "./session.js";
import type { EncodedPrompt, PromptTokenizer } from "./tokenizer.js";

export interface ImageJob {
  /** Path relative to the images folder, as written in the outputs. */
  file: string;
  prompt: EncodedPrompt;
  phrases?: PostprocessOptions["phrases"];
  /** What the result belongs to (a benchmark's expression id). */
  key?: string;
}

export type ImageResult =
  | { file: string; width: number; height: number; text: string; detections: Detection[] }
  | { file: string; error: string };

/**
 * Milliseconds summed over the run: waiting for the batch's pictures (decoded and resized while
 * the model runs, so not their CPU time), building tensors, the model, postprocessing.
 */
export interface StageTimes {
  decode: number;
  preprocess: number;
  model: number;
  postprocess: number;
}

export interface RunOptions {
  root: string;
  batchSize: number;
  postprocess: Omit<PostprocessOptions, "phrases">;
  /** Apply EXIF orientation (infer dir: people's photos); benchmarks decode the stored pixels. */
  exif?: boolean;
  /** Threads that decode and resize pictures (0: none, this thread does); default "auto": prepare-pool.ts `prepareThreads`. */
  prepareThreads?: number | "auto";
}

/** Prompts longer than the model's token positions cannot be scored; say how long they are. */
export function checkPromptLength(prompt: EncodedPrompt, model: ModelSession, scoring: PostprocessOptions["scoring"], where: string): void {
  if (model.positions === undefined) return;
  const limit = scoring === "mdetr" ? model.positions - 1 : model.positions;
  if (prompt.ids.length > limit) {
    const shown = prompt.text.length > 60 ? `${prompt.text.slice(0, 60)}...` : prompt.text;
    throw new UsageError(`${where} is ${prompt.ids.length} tokens long; this model takes at most ${limit}: ${JSON.stringify(shown)}`);
  }
}

interface Prepared {
  job: ImageJob;
  image?: PreparedImage;
  error?: string;
}

/**
 * Prepared pictures, each prepared once while jobs still need it: the jobs of one picture (its
 * expressions, its prompts) come one after another, so a picture is dropped after its last job,
 * and its planes' buffer goes back to the preparer.
 */
class PictureCache {
  private readonly pending = new Map<string, Promise<PreparedImage>>();
  private readonly lastJob = new Map<string, number>();

  constructor(
    jobs: readonly ImageJob[],
    private readonly root: string,
    private readonly exif: boolean,
    private readonly preparer: PicturePreparer,
  ) {
    jobs.forEach((job, i) => this.lastJob.set(job.file, i));
  }

  get(file: string, alone = false): Promise<PreparedImage> {
    let image = this.pending.get(file);
    if (!image) {
      image = this.preparer.prepare(join(this.root, file), this.exif, alone);
      // Asked for ahead of its batch: its failure is reported when the batch awaits it.
      image.catch(() => {});
      this.pending.set(file, image);
    }
    return image;
  }

  /** Prepares a picture again, alone (a failed one whose reason was lost). */
  retryAlone(file: string): Promise<PreparedImage> {
    this.pending.delete(file);
    return this.get(file, true);
  }

  /** Job `index` is done: forget the pictures no later job needs. */
  done(file: string, index: number, image: PreparedImage | undefined): void {
    if (this.lastJob.get(file) !== index) return;
    this.pending.delete(file);
    if (image) this.preparer.release(image);
  }
}

/**
 * sharp's message when libvips left none: libvips keeps one error buffer for all its threads, so a
 * picture that fails while others decode can lose its reason to another thread's clear.
 */
const LOST_REASON = "Unknown error";

async function prepareBatch(cache: PictureCache, jobs: readonly ImageJob[], times: StageTimes): Promise<Prepared[]> {
  const started = performance.now();
  const attempt = async (job: ImageJob, image: Promise<PreparedImage>): Promise<Prepared> => {
    try {
      return { job, image: await image };
    } catch (error) {
      // A stopped image thread fails the run, not the picture.
      if (error instanceof PreparerStopped) throw error;
      return { job, error: (error instanceof Error ? error.message : String(error)).split("\n")[0]! };
    }
  };
  const prepared = await Promise.all(jobs.map((job) => attempt(job, cache.get(job.file))));
  // A lost reason is asked for again with nothing else decoding, so that every run reports the
  // same reason for the same file (once for a picture that several jobs of the batch share).
  const retried = new Map<string, Promise<PreparedImage>>();
  for (const [i, p] of prepared.entries()) {
    if (p.error !== LOST_REASON) continue;
    const again = retried.get(p.job.file) ?? cache.retryAlone(p.job.file);
    retried.set(p.job.file, again);
    prepared[i] = await attempt(p.job, again);
  }
  times.decode += performance.now() - started;
  return prepared;
}

/** What a head makes of one job's model outputs, or why the job's picture could not be read. */
export type JobResult<R> = { file: string; width: number; height: number; value: R } | { file: string; error: string };

/** Turns one job's outputs (and its picture's size) into what a command needs. */
export type Head<R> = (outputs: ImageOutputs, job: ImageJob, image: PreparedImage) => R;

/**
 * Every job through the model, in batches, with the pictures ahead prepared while the model runs
 * on the current batch and each picture prepared once for its jobs; per job, in job order, the
 * head's value (or the reason the picture could not be read) goes to `onResult`.
 */
export async function runJobs<R>(
  jobs: readonly ImageJob[],
  model: ModelSession,
  tokenizer: PromptTokenizer,
  options: Omit<RunOptions, "postprocess">,
  head: Head<R>,
  onResult: (result: JobResult<R>, job: ImageJob) => Promise<void>,
): Promise<StageTimes> {
  const times: StageTimes = { decode: 0, preprocess: 0, model: 0, postprocess: 0 };
  const buffers = new TensorBuffers();
  // Without a pixel_mask input the model cannot tell padding from image: one image per batch.
  const batchSize = model.hasPixelMask ? options.batchSize : 1;
  const batches: ImageJob[][] = [];
  for (let i = 0; i < jobs.length; i += batchSize) batches.push(jobs.slice(i, i + batchSize));
  const pictures = [...new Set(jobs.map((job) => job.file))];
  const preparer = openPreparer(prepareThreads(options.prepareThreads ?? "auto", pictures.length));
  const cache = new PictureCache(jobs, options.root, options.exif ?? true, preparer);
  // Pictures asked for ahead of the batch being built, so that the preparer is never idle while
  // the model runs: two batches, and at least as many as it prepares at once.
  const order = new Map(pictures.map((file, i) => [file, i]));
  const ahead = Math.max(2 * batchSize, preparer.slots);
  let asked = 0;
  /** Asks for the pictures up to `ahead` after picture `last` (-1: before the first). */
  const askAhead = (last: number) => {
    for (; asked < Math.min(pictures.length, last + 1 + ahead); asked++) cache.get(pictures[asked]!);
  };
  try {
    askAhead(-1);
    let next = batches.length > 0 ? prepareBatch(cache, batches[0]!, times) : undefined;
    for (let b = 0; b < batches.length; b++) {
      const prepared = await next!;
      askAhead(order.get(batches[b]!.at(-1)!.file)!);
      // The next batch's pictures are in preparation (or ready) while the model works on this one.
      next = b + 1 < batches.length ? prepareBatch(cache, batches[b + 1]!, times) : undefined;
      next?.catch(() => {});
      const readable = prepared.filter((p) => p.image);
      let outputs: Awaited<ReturnType<typeof runBatch>> = [];
      if (readable.length > 0) {
        const started = performance.now();
        const feeds = batchFeeds(readable.map((p) => ({ image: p.image!, prompt: p.job.prompt })), model, tokenizer.padId, buffers);
        const built = performance.now();
        times.preprocess += built - started;
        outputs = await runBatch(model, feeds, readable.length);
        times.model += performance.now() - built;
      }
      let n = 0;
      for (const [j, p] of prepared.entries()) {
        if (!p.image) {
          await onResult({ file: p.job.file, error: p.error ?? "unreadable" }, p.job);
        } else {
          const started = performance.now();
          const value = head(outputs[n++]!, p.job, p.image);
          times.postprocess += performance.now() - started;
          await onResult({ file: p.job.file, width: p.image.width, height: p.image.height, value }, p.job);
        }
        cache.done(p.job.file, b * batchSize + j, p.image);
      }
    }
  } finally {
    await preparer.close();
  }
  return times;
}

/** `infer dir`'s run: MDETR's PostProcess with thresholds, detections with spans and phrases. */
export async function runFolder(
  jobs: readonly ImageJob[],
  model: ModelSession,
  tokenizer: PromptTokenizer,
  options: RunOptions,
  onResult: (result: ImageResult, job: ImageJob) => Promise<void>,
): Promise<StageTimes> {
  const head: Head<Detection[]> = (outputs, job, image) => postprocessImage(outputs, job.prompt, image, { ...options.postprocess, ...(job.phrases ? { phrases: job.phrases } : {}) });
  return runJobs(jobs, model, tokenizer, options, head, (result, job) =>
    onResult("error" in result ? result : { file: result.file, width: result.width, height: result.height, text: job.prompt.text, detections: result.value }, job),
  );
}
