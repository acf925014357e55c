/** `mdetr infer dir`: an exported grounding model over a folder of images. */
import { existsSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { Command } from "commander";
import { InputError, UsageError } from "../errors.js";
import { findImages } from "../datasets/images.js";
import { filesAlreadyDone, JsonlWriter, readRecords, writeCocoResults, type CocoDetection, type CocoImage } from "../datasets/predictions-jsonl.js";
import { drawDetections } from "../inference/draw.js";
import type { Scoring } from "../inference/postprocess.js";
import { parsePhraseList, phrasePrompt, readQueries } from "../inference/prompts.js";
import { checkPromptLength, runFolder, type ImageJob, type ImageResult, type StageTimes } from "../inference/run-folder.js";
import { deviceLine, openModel, type Device } from "../inference/session.js";
import { loadTokenizer, type EncodedPrompt } from "../inference/tokenizer.js";
import { checkOutputTarget } from "../util/emit.js";
import type { Logger } from "../util/log.js";
import { progressBar } from "../util/progress.js";
import type { CommandContext } from "./context.js";
import { parseChoice, parseNumberIn } from "./option-parsers.js";

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

export async function inferDir(options: InferDirOptions, log: Logger): Promise<InferDirReport> {
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
  const report: InferDirReport = { images: 0, resumed: total - jobs.length, unreadable: [], detections: 0, device: model.device, times: { decode: 0, preprocess: 0, model: 0, postprocess: 0 } };
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
      if (!writer && options.out !== "-") process.stdout.write(`${result.file}: ${result.detections.map((d) => `${d.phrase || "?"} ${d.score.toFixed(2)}`).join(", ") || "nothing"}\n`);
    }
    if (writer) await writer.write(result);
    else if (options.out === "-") process.stdout.write(`${JSON.stringify(result)}\n`);
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

const HELP = `
Model contract (see README): inputs pixel_values [B,3,H,W], pixel_mask [B,H,W] (optional), input_ids
and attention_mask [B,L] (token_type_ids optional); outputs pred_boxes [B,Q,4] (cx, cy, w, h relative)
and pred_logits (MDETR: --scoring mdetr) or logits (Grounding DINO: --scoring sigmoid).

Output: --out FILE writes one JSON line per image as it goes ('-' for stdout);
{"file", "width", "height", "text", "detections": [{"bbox": [x1,y1,x2,y2], "score", "spans", "phrase"}]}
An unreadable image is a line {"file", "error"}: reported, skipped, exit 0 (unless --strict).

Examples:
  $ mdetr infer dir photos/ --model mdetr.onnx --text "a cat lying next to a remote control" --out preds.jsonl
  $ mdetr infer dir photos/ --model gdino.onnx --phrases "cat,remote control" --draw drawn/ --coco results.json
  $ mdetr infer dir photos/ --model mdetr.onnx --queries queries.csv --out preds.jsonl --resume
`;

export function registerInferDir(program: Command, context: CommandContext): void {
  const infer = program.command("infer").description("run an exported grounding model").addHelpText("after", "\nExamples:\n  $ mdetr infer dir photos/ --model model.onnx --text \"a cat\" --out preds.jsonl\n");
  infer
    .command("dir")
    .description("run an exported grounding model (ONNX) over a folder of images with text prompts")
    .argument("<images>", "folder of images (jpg, jpeg, png, webp, bmp, tif, tiff)")
    .requiredOption("--model <file>", "the exported model (.onnx)")
    .option("--tokenizer <file>", "Hugging Face tokenizer.json (default: next to the model)")
    .option("--text <prompt>", "one prompt for every image")
    .option("--phrases <list>", "comma-separated phrases, prompted GLIP-style ('cat. remote control.')")
    .option("--queries <csv>", "per-image prompts: a CSV with header image,text (image may be a glob)")
    .option("--device <device>", "auto, cuda, webgpu or cpu", "auto")
    .option("--batch-size <n>", "images per model run", "1")
    .option("--threshold <t>", "keep boxes scoring at least t", "0.7")
    .option("--token-threshold <t>", "tokens of a kept box with probability at least t give its spans", "0.1")
    .option("--scoring <rule>", "mdetr or sigmoid (default: from the model's logits output name)")
    .option("--out <file>", "JSONL predictions, one line per image ('-' for stdout)")
    .option("--coco <file>", "also write a COCO results list (and FILE.images.json with the image ids)")
    .option("--draw <folder>", "write each image with its boxes, phrases and scores drawn")
    .option("--resume", "skip images already in --out")
    .option("--recursive", "look for images in subfolders too")
    .option("--strict", "stop at the first unreadable image (exit 2)")
    .addHelpText("after", HELP)
    .action(async (root: string, raw: Record<string, string | boolean | undefined>) => {
      if (!existsSync(root) || !statSync(root).isDirectory()) throw new UsageError(`${root}: not a folder`);
      const given = (["text", "phrases", "queries"] as const).filter((k) => raw[k] !== undefined);
      if (given.length !== 1) throw new UsageError("give exactly one of --text, --phrases, --queries");
      const model = String(raw["model"]);
      const tokenizer = raw["tokenizer"] === undefined ? join(dirname(model), "tokenizer.json") : String(raw["tokenizer"]);
      if (!existsSync(tokenizer)) throw new UsageError(`${raw["tokenizer"] === undefined ? "no tokenizer.json next to the model" : "--tokenizer"}: ${tokenizer} does not exist`);
      const out = raw["out"] as string | undefined;
      if (raw["resume"] && (out === undefined || out === "-")) throw new UsageError("--resume needs --out FILE");
      const coco = raw["coco"] as string | undefined;
      const draw = raw["draw"] as string | undefined;
      if (coco === "-") throw new UsageError("--coco needs a file name (the results and their images mapping are two files)");
      if (coco !== undefined && out !== undefined && resolve(coco) === resolve(out)) throw new UsageError("--coco and --out name the same file");
      for (const [option, target] of [["--out", out], ["--coco", coco]] as const) await checkOutputTarget(option, target);
      if (draw !== undefined) {
        if (resolve(draw) === resolve(root)) throw new UsageError("--draw: give another folder than the images' own (drawings would replace the images)");
        if (existsSync(draw) && !statSync(draw).isDirectory()) throw new UsageError(`--draw ${draw}: exists and is not a folder`);
      }
      const batchSize = parseNumberIn("--batch-size", String(raw["batchSize"]), 1, 4096);
      if (!Number.isInteger(batchSize)) throw new UsageError(`--batch-size: expected a whole number, got ${String(raw["batchSize"])}`);
      const prompt = given[0] === "text" ? { text: String(raw["text"]) } : given[0] === "phrases" ? { phrases: parsePhraseList("--phrases", String(raw["phrases"])) } : { queries: String(raw["queries"]) };
      if ("text" in prompt && !prompt.text?.trim()) throw new UsageError("--text: the prompt is empty");
      const log = context.log();
      const report = await inferDir(
        {
          root,
          model,
          tokenizer,
          prompt,
          device: parseChoice("--device", String(raw["device"]), ["auto", "cuda", "webgpu", "cpu"] as const),
          batchSize,
          threshold: parseNumberIn("--threshold", String(raw["threshold"]), 0, 1),
          tokenThreshold: parseNumberIn("--token-threshold", String(raw["tokenThreshold"]), 0, 1),
          scoring: raw["scoring"] === undefined ? undefined : parseChoice("--scoring", String(raw["scoring"]), ["mdetr", "sigmoid"] as const),
          out,
          coco: raw["coco"] as string | undefined,
          draw: raw["draw"] as string | undefined,
          resume: raw["resume"] === true,
          recursive: raw["recursive"] === true,
          strict: raw["strict"] === true,
          verbose: context.verbose(),
        },
        log,
      );
      log.info(inferSummary(report));
    });
}
