/**
 * `infer dir` as a function: prompts, model, tokenizer and images in; JSONL, COCO results and
 * drawings out; a report back. Loaded on demand by the command, so that the other commands do
 * not pay for sharp, onnxruntime and the tokenizer at start-up.
 */
import { join } from "node:path";
import { InputError } from "../core/errors.js";
import { findImages } from "./images.js";
import { filesAlreadyDone, JsonlWriter, readRecords, writeCocoResults, type CocoDetection, type CocoImage } from "../formats/infer/jsonl.js";
import type { TextSink } from "../core/log.js";
import type { RunContext } from "../json/run-context.js";
import { drawDetections } from "./draw.js";
import type { Scoring } from "./postprocess.js";
import { phrasePrompt, readQueries } from "./prompts.js";
import { checkPromptLength, runFolder, type ImageJob, type ImageResult, type StageTimes } from "./run-folder.js";
import { deviceLine, openModel, type Device } from "./session.js";
import { loadTokenizer, type EncodedPrompt } from "./tokenizer.js";

export interface InferDirOptions {
  root: string;
  model: string;
  tokenizer: string;
  prompt: { text: string } | { phrases: string[] } | { queries: string };
  device: Device;
  batchSize: number;
  threshold: number;
  tokenThreshold: number;
  scoring: Scoring | undefined;
  out: string | undefined;
  coco: string | undefined;
  draw: string | undefined;
  resume: boolean;
  recursive: boolean;
  strict: boolean;
  verbose: boolean;
}

export interface InferDirReport {
  images: number;
  resumed: number;
  unreadable: { file: string; error: string }[];
  detections: number;
  device: string;
  scoring: Scoring;
  times: StageTimes;
}

async function buildJobs(options: InferDirOptions, encode: (text: string) => Promise<EncodedPrompt>): Promise<ImageJob[]> {
  if ("queries" in options.prompt) {
    const queries = await readQueries(options.prompt.queries, options.root);
    const jobs: ImageJob[] = [];
    for (const [file, text] of [...queries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) jobs.push({ file, prompt: await encode(text) });
    return jobs;
  }
  const files = await findImages(options.root, options.recursive);
  if ("text" in options.prompt) {
    const prompt = await encode(options.prompt.text);
    return files.map((file) => ({ file, prompt }));
  }
  const { text, phrases } = phrasePrompt(options.prompt.phrases);
  const prompt = await encode(text);
  return files.map((file) => ({ file, prompt, phrases }));
}

export async function inferDir(options: InferDirOptions, { log, progress: progressBar, stdout }: RunContext & { stdout: TextSink }): Promise<InferDirReport> {
  const tokenizer = await loadTokenizer(options.tokenizer);
  const model = await openModel(options.model, options.device, options.verbose);
  const scoring = options.scoring ?? model.defaultScoring;
  const cache = new Map<string, Promise<EncodedPrompt>>();
  const encode = (text: string) => cache.get(text) ?? cache.set(text, tokenizer.encode(text)).get(text)!;
  let jobs = await buildJobs(options, encode);
  for (const job of jobs) checkPromptLength(job.prompt, model, scoring, "queries" in options.prompt ? `the query for ${job.file}` : "the prompt");
  log.info(deviceLine(model));
  for (const reason of model.unavailable) log.debug(`  ${reason}`);

  const done = options.resume && options.out ? await filesAlreadyDone(options.out) : new Set<string>();
  const total = jobs.length;
  jobs = jobs.filter((job) => !done.has(job.file));
  if (done.size > 0) log.info(`--resume: ${total - jobs.length} images already in ${options.out}`);

  if (total === 0) log.warn(`no images to run on in ${options.root}${options.recursive ? "" : " (--recursive looks in subfolders)"}`);
  const writer = options.out && options.out !== "-" ? await JsonlWriter.open(options.out, options.resume) : undefined;
  const results: ImageResult[] = [];
  const categories = "phrases" in options.prompt ? options.prompt.phrases : ["object"];
  const report: InferDirReport = { images: 0, resumed: total - jobs.length, unreadable: [], detections: 0, device: model.device, scoring, times: { decode: 0, preprocess: 0, model: 0, postprocess: 0 } };
  const progress = progressBar("images", jobs.length);
  const onResult = async (result: ImageResult) => {
    progress.tick();
    if ("error" in result) {
      if (options.strict) throw new InputError(join(options.root, result.file), undefined, `cannot read the image: ${result.error}`);
      report.unreadable.push(result);
    } else {
      report.images++;
      report.detections += result.detections.length;
      if (options.coco && !writer) results.push(result);
      if (options.draw) await drawDetections(join(options.root, result.file), result.file, options.draw, result.width, result.height, result.detections);
      if (!writer && options.out !== "-") stdout.write(`${result.file}: ${result.detections.map((d) => `${d.phrase || "?"} ${d.score.toFixed(2)}`).join(", ") || "nothing"}\n`);
    }
    if (writer) await writer.write(result);
    else if (options.out === "-") stdout.write(`${JSON.stringify(result)}\n`);
  };
  try {
    report.times = await runFolder(jobs, model, tokenizer, { root: options.root, batchSize: options.batchSize, postprocess: { scoring, threshold: options.threshold, tokenThreshold: options.tokenThreshold } }, onResult);
  } finally {
    progress.stop();
    await writer?.close();
    await model.session.release();
  }
  // After the progress bar is gone, so that the lines do not tear it.
  for (const { file, error } of report.unreadable) log.warn(`${join(options.root, file)}: skipped: ${error}`);
  if (options.coco) {
    // From the whole JSONL when there is one, so that a --resume run covers the earlier images too.
    const all = writer ? ((await readRecords(options.out!)) as unknown as ImageResult[]) : results;
    const { images, detections } = cocoResults(all, categories);
    await writeCocoResults(options.coco, images, detections, categories.map((name, i) => ({ id: i + 1, name })));
  }
  return report;
}

/** COCO ids for the images (in file name order, so that a resumed run numbers them the same). */
export function cocoResults(records: readonly ImageResult[], categories: readonly string[]): { images: CocoImage[]; detections: CocoDetection[] } {
  const done = records.filter((r): r is Extract<ImageResult, { detections: unknown }> => "detections" in r && Array.isArray(r.detections));
  const byFile = new Map(done.map((r) => [r.file, r]));
  const files = [...byFile.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const images: CocoImage[] = [];
  const detections: CocoDetection[] = [];
  files.forEach((file, i) => {
    const r = byFile.get(file)!;
    images.push({ id: i + 1, file_name: file, width: r.width, height: r.height });
    for (const d of r.detections) {
      const [x1, y1, x2, y2] = d.bbox;
      detections.push({ image_id: i + 1, category_id: Math.max(1, categories.indexOf(d.phrase) + 1), bbox: [x1, y1, x2 - x1, y2 - y1], score: d.score });
    }
  });
  return { images, detections };
}

export function inferSummary(report: InferDirReport): string {
  const n = Math.max(1, report.images + report.unreadable.length);
  const perImage = (ms: number) => `${(ms / n).toFixed(1)} ms`;
  const reasons = new Map<string, number>();
  for (const { error } of report.unreadable) reasons.set(error, (reasons.get(error) ?? 0) + 1);
  return [
    `${report.images} images done on ${report.device}, ${report.detections} detections` + (report.resumed ? `, ${report.resumed} already done` : ""),
    ...(report.unreadable.length ? [`${report.unreadable.length} unreadable, skipped: ${[...reasons].map(([r, c]) => `${c} x ${r}`).join("; ")}`] : []),
    `time per image: decode ${perImage(report.times.decode)}, preprocess ${perImage(report.times.preprocess)}, model ${perImage(report.times.model)}, postprocess ${perImage(report.times.postprocess)}`,
  ].join("\n");
}
