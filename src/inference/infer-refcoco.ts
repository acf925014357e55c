/**
 * `infer refcoco` as a function: every referring expression of an MDETR annotation file through
 * the model (the caption verbatim as the prompt, its picture decoded once for all of its
 * expressions, stored pixels without EXIF rotation, as MDETR's datasets decode them), all Q boxes
 * kept best first, written as MDETR's prediction dict `{"<images[].id>": {"boxes", "scores"}}`.
 */
import { join } from "node:path";
import { writeFileAtomic } from "../core/atomic-write.js";
import { InputError } from "../core/errors.js";
import { readRefexpQueries, type RefexpQuery } from "../formats/refexp/annotations.js";
import type { RunContext } from "../json/run-context.js";
import type { Scoring } from "./postprocess.js";
import { checkPromptLength, runFolder, type ImageJob, type StageTimes } from "./run-folder.js";
import { openModel, type Device } from "./session.js";
import { loadTokenizer, type EncodedPrompt } from "./tokenizer.js";
import { shardPictures, type Shard } from "./shard.js";

export interface InferRefcocoOptions {
  annotations: string;
  images: string;
  model: string;
  tokenizer: string;
  scoring: Scoring | undefined;
  device: Device;
  batchSize: number;
  out: string;
  shard: Shard | undefined;
  verbose: boolean;
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

  const entries: string[] = [];
  const progress = progressBar("expressions", jobs.length);
  let times: StageTimes;
  try {
    // All queries, no threshold: the evaluator ranks them (token spans are not needed).
    times = await runFolder(jobs, model, tokenizer, { root: options.images, batchSize: options.batchSize, exif: false, postprocess: { scoring, threshold: -Infinity, tokenThreshold: Infinity } }, async (result, job) => {
      progress.tick();
      if ("error" in result) {
        const reason = /ENOENT/.test(result.error) ? "no such file in --images" : result.error;
        throw new InputError(join(options.images, result.file), undefined, `cannot read the picture: ${reason}`);
      }
      const boxes = result.detections.map((d) => d.bbox);
      const scores = result.detections.map((d) => d.score);
      entries.push(`${JSON.stringify(job.key)}:${JSON.stringify({ boxes, scores })}`);
    });
  } finally {
    progress.stop();
    await model.session.release();
  }
  // More shards than pictures leaves some empty: they write an empty dict, which evaluates with the rest.
  if (jobs.length === 0) log.warn(`${options.annotations}: no expressions${options.shard ? ` in shard ${options.shard.index}/${options.shard.count}` : ""}; writing an empty prediction dict`);
  await writeFileAtomic(options.out, ["{", entries.join(","), "}\n"]);
  return { expressions: jobs.length, pictures: pictures.length, device: model.device, scoring, times };
}
