/**
 * `infer dir` as a function: prompts, model, tokenizer and images in; JSONL, COCO results and
 * drawings out; a report back. Loaded on demand by the command, so that the other commands do
 * not pay for sharp, onnxruntime and the tokenizer at start-up.
 */
import { join } from "node:path";
import { InputError, UsageError } from "../core/errors.js";
import type { InputLog } from "../core/inputs.js";
import { findImages, IMAGE_EXTENSIONS, IMAGE_PREPARATION, MEAN, STD } from "./images.js";
import { cutTornLine, JsonlWriter, readInferJsonl, settingsDifferences, writeCocoResults, type CocoDetection, type CocoImage, type InferHeader } from "../formats/infer/jsonl.js";
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
  /** Image threads (prepare-pool.ts `prepareThreads`); "auto" lets the runner choose. */
  imageThreads: number | "auto";
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
  /** mdetr's version, for the header of --out. */
  version: string;
  /** No line per image on stdout (stdout belongs to something else). */
  quiet: boolean;
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

/** The jobs, and the prompt as the header of --out records it. */
async function buildJobs(options: InferDirOptions, encode: (text: string) => Promise<EncodedPrompt>, inputs: InputLog): Promise<{ jobs: ImageJob[]; prompt: Record<string, unknown> }> {
  if ("queries" in options.prompt) {
    const path = options.prompt.queries;
    const prompts = await readQueries(path, options.root, inputs);
    const jobs: ImageJob[] = [];
    for (const [file, text] of [...prompts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) jobs.push({ file, prompt: await encode(text) });
    return { jobs, prompt: { mode: "queries", queries: fileSetting(path, inputs) } };
  }
  const files = await findImages(options.root, options.recursive);
  if (files.length === 0) throw new UsageError(`${options.root}: no images (${IMAGE_EXTENSIONS.join(", ")})${options.recursive ? "" : "; --recursive looks in subfolders"}`);
  if ("text" in options.prompt) {
    const prompt = await encode(options.prompt.text);
    return { jobs: files.map((file) => ({ file, prompt })), prompt: { mode: "text", text: options.prompt.text } };
  }
  const { text, phrases } = phrasePrompt(options.prompt.phrases);
  const prompt = await encode(text);
  return { jobs: files.map((file) => ({ file, prompt, phrases })), prompt: { mode: "phrases", phrases: options.prompt.phrases } };
}

/** A file as a setting: its path as named, and the hash of the bytes the run read from it. */
function fileSetting(path: string, inputs: InputLog): { path: string; sha256: string | undefined } {
  return { path, sha256: inputs.get(path)?.sha256 };
}

/**
 * What --resume continues: the files an earlier run of the same settings wrote, or a fresh start
 * (no file, or nothing in it). A file without a header or with other settings is refused, and left
 * as it is; a damaged line is an InputError; a torn last line is cut off.
 */
async function resumeFrom(path: string, header: InferHeader): Promise<{ earlier: readonly ImageResult[]; fresh: boolean }> {
  const earlier = await readInferJsonl(path);
  if (earlier === undefined || (earlier.header === undefined && earlier.records.length === 0)) return { earlier: [], fresh: true };
  const restart = "(use another --out, or drop --resume to start over)";
  if (earlier.header === undefined) throw new UsageError(`--resume: ${path} has no header line with its settings (written by an older mdetr) ${restart}`);
  const differences = settingsDifferences(earlier.header.settings, header.settings);
  if (differences.length > 0) throw new UsageError(`--resume: ${path} was made with other settings: ${differences.join("; ")} ${restart}`);
  await cutTornLine(path, earlier);
  return { earlier: earlier.records, fresh: false };
}

export async function inferDir(options: InferDirOptions, { log, progress: progressBar, read, stdout }: RunContext & { stdout: TextSink }): Promise<InferDirReport> {
  // Each input file is read once: hashed (for --json's meta and the header) from the bytes used.
  const tokenizer = await loadTokenizer(options.tokenizer, read.inputs);
  const cache = new Map<string, Promise<EncodedPrompt>>();
  const encode = (text: string) => cache.get(text) ?? cache.set(text, tokenizer.encode(text)).get(text)!;
  const built = await buildJobs(options, encode, read.inputs);
  let jobs = built.jobs;
  const model = await openModel(options.model, options.device, options.verbose, read.inputs);
  const scoring = options.scoring ?? model.defaultScoring;
  for (const job of jobs) checkPromptLength(job.prompt, model, scoring, "queries" in options.prompt ? `the query for ${job.file}` : "the prompt");

  // What decides the numbers (not the device or the batch size, which do not change them).
  const header: InferHeader = {
    tool: "mdetr",
    version: options.version,
    command: "infer dir",
    settings: {
      model: fileSetting(options.model, read.inputs),
      tokenizer: fileSetting(options.tokenizer, read.inputs),
      prompt: built.prompt,
      threshold: options.threshold,
      token_threshold: options.tokenThreshold,
      scoring,
      preprocessing: { ...IMAGE_PREPARATION, mean: [...MEAN], std: [...STD] },
      recursive: options.recursive,
    },
  };
  const toFile = options.out !== undefined && options.out !== "-";
  // The records an earlier run of the same settings wrote: their files are done.
  const { earlier, fresh } = options.resume && toFile ? await resumeFrom(options.out!, header) : { earlier: [], fresh: true };
  const done = new Set(earlier.map((r) => r.file));
  // After every refusal, so that a refusal is the only line on stderr.
  log.info(deviceLine(model));
  for (const reason of model.unavailable) log.debug(`  ${reason}`);
  const total = jobs.length;
  jobs = jobs.filter((job) => !done.has(job.file));
  if (done.size > 0) log.info(`--resume: ${total - jobs.length} images already in ${options.out}`);

  const writer = toFile ? await JsonlWriter.open(options.out!, !fresh) : undefined;
  if (fresh) {
    if (writer) await writer.write({ header });
    else if (options.out === "-") stdout.write(`${JSON.stringify({ header })}\n`);
  }
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
      if (options.coco) results.push(result);
      if (options.draw) await drawDetections(join(options.root, result.file), result.file, options.draw, result.width, result.height, result.detections);
      if (!writer && options.out !== "-" && !options.quiet) stdout.write(`${result.file}: ${result.detections.map((d) => `${d.phrase || "?"} ${d.score.toFixed(2)}`).join(", ") || "nothing"}\n`);
    }
    if (writer) await writer.write(result);
    else if (options.out === "-") stdout.write(`${JSON.stringify(result)}\n`);
  };
  try {
    report.times = await runFolder(jobs, model, tokenizer, { root: options.root, batchSize: options.batchSize, prepareThreads: options.imageThreads, postprocess: { scoring, threshold: options.threshold, tokenThreshold: options.tokenThreshold } }, onResult);
  } finally {
    progress.stop();
    await writer?.close();
    await model.session.release();
  }
  // After the progress bar is gone, so that the lines do not tear it.
  for (const { file, error } of report.unreadable) log.warn(`${join(options.root, file)}: skipped: ${error}`);
  if (options.coco) {
    // The earlier run's records too, as the whole JSONL holds them, so that a --resume run covers
    // the images done before (already read and checked: no second read of the file).
    const { images, detections } = cocoResults([...earlier, ...results], categories);
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
