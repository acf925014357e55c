/**
 * `infer refcoco` as a function: every referring expression of an MDETR annotation file through
 * the model (the caption verbatim as the prompt, its picture decoded once for all of its
 * expressions, stored pixels without EXIF rotation, as MDETR's datasets decode them), all Q boxes
 * kept best first, written as MDETR's prediction dict `{"<images[].id>": {"boxes", "scores"}}`.
 */
import { resolve } from "node:path";
import { writeFileAtomic } from "../core/atomic-write.js";
import { ProgressLog } from "../formats/infer/progress-log.js";
import { readRefexpQueries, type RefexpQuery } from "../formats/refexp/annotations.js";
import type { RunContext } from "../json/run-context.js";
import { allQueries, requireFiniteScores, type Scoring } from "./postprocess.js";
import { checkPromptLength, runJobs, type Head, type ImageJob, type StageTimes } from "./run-folder.js";
import { openModel } from "./session.js";
import { loadTokenizer, type EncodedPrompt } from "./tokenizer.js";
import { shardPictures, unreadablePicture, type BenchmarkRunOptions } from "./shard.js";

export interface InferRefcocoOptions extends BenchmarkRunOptions {
  annotations: string;
  /** Continue an interrupted run from its progress log (settings checked). */
  resume: boolean;
}

export interface InferRefcocoReport {
  expressions: number;
  pictures: number;
  device: string;
  scoring: Scoring;
  times: StageTimes;
}

function picturesOf(queries: readonly RefexpQuery[]): { file: string; id: number | undefined; queries: RefexpQuery[] }[] {
  const byFile = new Map<string, { file: string; id: number | undefined; queries: RefexpQuery[] }>();
  for (const query of queries) {
    const picture = byFile.get(query.fileName) ?? { file: query.fileName, id: query.pictureId, queries: [] };
    picture.queries.push(query);
    byFile.set(query.fileName, picture);
  }
  const key = (p: { file: string; id: number | undefined }) => p.id;
  return [...byFile.values()].sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    if (ka !== undefined && kb !== undefined && ka !== kb) return ka - kb;
    return a.file < b.file ? -1 : a.file > b.file ? 1 : 0;
  });
}

export async function inferRefcoco(options: InferRefcocoOptions, { log, progress: progressBar, read }: RunContext): Promise<InferRefcocoReport> {
  const queries = await readRefexpQueries(options.annotations, read);
  const pictures = shardPictures(picturesOf(queries), options.shard);
  const tokenizer = await loadTokenizer(options.tokenizer, read.inputs);
  const model = await openModel(options.model, options.device, options.verbose, read.inputs);
  const scoring = options.scoring ?? model.defaultScoring;
  // Each distinct caption is tokenized once.
  const encoded = new Map<string, EncodedPrompt>();
  const jobs: ImageJob[] = [];
  for (const picture of pictures) {
    for (const query of picture.queries) {
      let prompt = encoded.get(query.caption);
      if (!prompt) {
        prompt = await tokenizer.encode(query.caption);
        checkPromptLength(prompt, model, scoring, `the expression of image id ${query.id}`);
        encoded.set(query.caption, prompt);
      }
      jobs.push({ file: picture.file, prompt, key: query.id });
    }
  }
  log.debug(`${jobs.length} expressions on ${pictures.length} pictures${options.shard ? ` (shard ${options.shard.index}/${options.shard.count})` : ""}, ${scoring} scoring`);

  // What decides the numbers, for --resume to check (not the device or the batch size).
  const file = (path: string) => ({ path, sha256: read.inputs.get(path)?.sha256 });
  const settings = { command: "infer refcoco", annotations: file(options.annotations), model: file(options.model), tokenizer: file(options.tokenizer), scoring, shard: options.shard ? `${options.shard.index}/${options.shard.count}` : null, images: resolve(options.images), exif: "not applied" };
  const progressLog = await ProgressLog.open(options.out, settings, options.resume);
  if (progressLog.discarded > 0) log.warn(`${progressLog.path}: started over, discarding the ${progressLog.discarded} expressions an earlier run finished (--resume continues such a run)`);
  const values = new Map<string, unknown>(progressLog.done);
  if (values.size > 0) log.info(`--resume: ${values.size} expressions already in ${progressLog.path}`);
  const todo = jobs.filter((job) => !values.has(job.key!));
  const progress = progressBar("expressions", todo.length);
  let times: StageTimes;
  try {
    // All queries, no threshold: the evaluator ranks them (token spans are not needed).
    const head: Head<{ boxes: [number, number, number, number][]; scores: number[] }> = (outputs, job, image) => {
      const { boxes, scores } = allQueries(outputs, job.prompt, image, scoring);
      requireFiniteScores(options.model, scores, job.file);
      // Best first; equal scores keep query order.
      const order = Array.from(scores.keys()).sort((a, b) => scores[b]! - scores[a]! || a - b);
      return { boxes: order.map((q) => boxes[q]!), scores: order.map((q) => scores[q]!) };
    };
    times = await runJobs(todo, model, tokenizer, { root: options.images, batchSize: options.batchSize, exif: false }, head, async (result, job) => {
      progress.tick();
      if ("error" in result) throw unreadablePicture(options.images, result.file, result.error);
      const value = result.value;
      values.set(job.key!, value);
      await progressLog.record(job.key!, value);
    });
  } catch (error) {
    await progressLog.close();
    throw error;
  } finally {
    progress.stop();
    await model.session.release();
  }
  // More shards than pictures leaves some empty: they write an empty dict, which evaluates with the rest.
  if (jobs.length === 0) log.warn(`${options.annotations}: no expressions${options.shard ? ` in shard ${options.shard.index}/${options.shard.count}` : ""}; writing an empty prediction dict`);
  // In the run's order, whatever was done before a --resume.
  await writeFileAtomic(options.out, ["{", jobs.map((job) => `${JSON.stringify(job.key)}:${JSON.stringify(values.get(job.key!))}`).join(","), "}\n"]);
  await progressLog.finish();
  return { expressions: jobs.length, pictures: pictures.length, device: model.device, scoring, times };
}
