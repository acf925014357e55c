/**
 * `infer refcoco` as a function: every referring expression of an MDETR annotation file through
 * the model (the caption verbatim as the prompt, its picture decoded once for all of its
 * expressions, stored pixels without EXIF rotation, as MDETR's datasets decode them), all Q boxes
 * kept best first, written as MDETR's prediction dict `{"<images[].id>": {"boxes", "scores"}}`.
 */
import { writeFileAtomic } from "../core/atomic-write.js";
import { readRefexpQueries, type RefexpQuery } from "../formats/refexp/annotations.js";
import type { RunContext } from "../json/run-context.js";
import { allQueries, requireFiniteScores, type Scoring } from "./postprocess.js";
import { checkPromptLength, type Head, type ImageJob, type StageTimes } from "./run-folder.js";
import { openModel } from "./session.js";
import { loadTokenizer, type EncodedPrompt } from "./tokenizer.js";
import { openProgressLog, runBenchmark, shardPictures, type BenchmarkRunOptions } from "./benchmark.js";

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

  const progressLog = await openProgressLog(options, { command: "infer refcoco", inputs: { annotations: options.annotations }, scoring, what: "expressions" }, { log, read });
  const values = new Map<string, unknown>(progressLog.done);
  // All queries, no threshold: the evaluator ranks them (token spans are not needed).
  const head: Head<{ boxes: [number, number, number, number][]; scores: number[] }> = (outputs, job, image) => {
    const { boxes, scores } = allQueries(outputs, job.prompt, image, scoring);
    requireFiniteScores(options.model, scores, job.file);
    // Best first; equal scores keep query order.
    const order = Array.from(scores.keys()).sort((a, b) => scores[b]! - scores[a]! || a - b);
    return { boxes: order.map((q) => boxes[q]!), scores: order.map((q) => scores[q]!) };
  };
  const todo = jobs.filter((job) => !values.has(job.key!));
  const times = await runBenchmark(todo, model, tokenizer, options, { label: "expressions", progress: progressBar, log: progressLog }, head, (value, job) => values.set(job.key!, value));
  // More shards than pictures leaves some empty: they write an empty dict, which evaluates with the rest.
  if (jobs.length === 0) log.warn(`${options.annotations}: no expressions${options.shard ? ` in shard ${options.shard.index}/${options.shard.count}` : ""}; writing an empty prediction dict`);
  // In the run's order, whatever was done before a --resume.
  await writeFileAtomic(options.out, ["{", jobs.map((job) => `${JSON.stringify(job.key)}:${JSON.stringify(values.get(job.key!))}`).join(","), "}\n"]);
  await progressLog.finish();
  return { expressions: jobs.length, pictures: pictures.length, device: model.device, scoring, times };
}
