/**
 * What every model run over a benchmark (`infer refcoco | flickr30k | lvis`) shares: its options,
 * `--shard K/N` (one of N machines' share), the progress log for `--resume`, and the run itself
 * (progress bar, a picture that cannot be read, the model released whatever happens).
 */
import { join, resolve } from "node:path";
import { InputError } from "../core/errors.js";
import type { ProgressFactory } from "../core/progress.js";
import { ProgressLog } from "../formats/infer/progress-log.js";
import type { RunContext } from "../json/run-context.js";
import { runJobs, type Head, type ImageJob, type StageTimes } from "./run-folder.js";
import type { ModelSession } from "./session.js";
import type { PromptTokenizer } from "./tokenizer.js";

/** The K-th (from 1) of N contiguous blocks. */
export interface Shard {
  index: number;
  count: number;
}

/** The shard's block of the pictures (already sorted by id): contiguous, sizes differing by at most one. */
export function shardPictures<T>(pictures: readonly T[], shard: Shard | undefined): T[] {
  if (!shard) return [...pictures];
  const from = Math.floor((pictures.length * (shard.index - 1)) / shard.count);
  const to = Math.floor((pictures.length * shard.index) / shard.count);
  return pictures.slice(from, to);
}

/** What a model run over a benchmark takes besides the benchmark's own files. */
export interface BenchmarkRunOptions {
  images: string;
  model: string;
  tokenizer: string;
  scoring: "mdetr" | "sigmoid" | undefined;
  device: "auto" | "cuda" | "webgpu" | "cpu";
  batchSize: number;
  out: string;
  shard: Shard | undefined;
  verbose: boolean;
}

/** A benchmark's picture that cannot be read fails the run (its predictions would be missing). */
export function unreadablePicture(images: string, file: string, error: string): InputError {
  const reason = /ENOENT/.test(error) ? "no such file in --images" : error;
  return new InputError(join(images, file), undefined, `cannot read the picture: ${reason}`);
}

/**
 * The run's progress log, opened with the settings that decide its numbers (inputs by hash; not
 * the device or the batch size), saying what an earlier run left: `what` names the items.
 */
export async function openProgressLog(
  options: BenchmarkRunOptions & { resume: boolean },
  run: { command: string; inputs: Record<string, string>; settings?: Record<string, unknown>; scoring: string; what: string },
  { log, read }: Pick<RunContext, "log" | "read">,
): Promise<ProgressLog> {
  const { what } = run;
  const file = (path: string) => ({ path, sha256: read.inputs.get(path)?.sha256 });
  const settings = {
    command: run.command,
    ...Object.fromEntries(Object.entries(run.inputs).map(([name, path]) => [name, file(path)])),
    ...run.settings,
    model: file(options.model),
    tokenizer: file(options.tokenizer),
    scoring: run.scoring,
    shard: options.shard ? `${options.shard.index}/${options.shard.count}` : null,
    images: resolve(options.images),
    exif: "not applied",
  };
  const progressLog = await ProgressLog.open(options.out, settings, options.resume);
  if (progressLog.discarded > 0) log.warn(`${progressLog.path}: started over, discarding the ${progressLog.discarded} ${what} an earlier run finished (--resume continues such a run)`);
  if (progressLog.done.size > 0) log.info(`--resume: ${progressLog.done.size} ${what} already in ${progressLog.path}`);
  return progressLog;
}

/**
 * Runs the jobs (pictures as stored, no EXIF rotation) with a progress bar labelled `label`; each
 * head value goes to `onValue` and, with a progress log, into it. A picture that cannot be read
 * fails the run, which leaves the log for --resume; the model is released in any case.
 */
export async function runBenchmark<R>(
  jobs: readonly ImageJob[],
  model: ModelSession,
  tokenizer: PromptTokenizer,
  options: BenchmarkRunOptions,
  run: { label: string; progress: ProgressFactory; log?: ProgressLog },
  head: Head<R>,
  onValue: (value: R, job: ImageJob) => void,
): Promise<StageTimes> {
  const bar = run.progress(run.label, jobs.length);
  try {
    return await runJobs(jobs, model, tokenizer, { root: options.images, batchSize: options.batchSize, exif: false }, head, async (result, job) => {
      bar.tick();
      if ("error" in result) throw unreadablePicture(options.images, result.file, result.error);
      onValue(result.value, job);
      await run.log?.record(job.key!, result.value);
    });
  } catch (error) {
    await run.log?.close();
    throw error;
  } finally {
    bar.stop();
    await model.session.release();
  }
}

