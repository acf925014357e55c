/** `mdetr merge-annotations`: MDETR pre-training datapoints by graph colouring. */
import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { UsageError } from "../errors.js";
import { GroundingCorpus, parseExcludeList } from "../datasets/grounding-corpus.js";
import type { ColouringOptions } from "../datasets/merge/colouring.js";
import { emptyMergeStats, mergeImages, type MergeStats } from "../datasets/merge/merge-images.js";
import { writeMixedDataset } from "../datasets/mixed-writer.js";
import { writeFileAtomic } from "../util/atomic-write.js";
import { checkOutputTarget } from "../util/emit.js";
import { stopwatch, type Logger } from "../util/log.js";
import { progressBar } from "../util/progress.js";
import { formatTable } from "../util/table.js";
import type { CommandContext } from "./context.js";
import { parseChoice, parseNumberIn, parseWholeNumber } from "./option-parsers.js";

export interface MergeAnnotationsOptions extends ColouringOptions {
  inputs: string[];
  output: string;
  exclude: string | undefined;
}

export interface MergeAnnotationsReport {
  stats: MergeStats;
  excluded: { images: number; datapoints: number };
  options: ColouringOptions;
}

export async function mergeAnnotations(options: MergeAnnotationsOptions, log: Logger): Promise<MergeAnnotationsReport> {
  const clock = stopwatch();
  const exclude = options.exclude === undefined ? new Set<string>() : await readExcludeList(options.exclude);
  const corpus = new GroundingCorpus(exclude);
  for (const input of options.inputs) {
    await corpus.addFile(input);
    log.debug(`${input}: read, ${corpus.datapointCount} datapoints so far (${clock.lap()})`);
  }
  const { sizeConflicts } = corpus;
  if (sizeConflicts.count > 0) {
    log.warn(`${sizeConflicts.count} images have datapoints with different sizes (${sizeConflicts.example}); the first size was kept`);
  }
  const stats = emptyMergeStats();
  const progress = progressBar("merging", corpus.groups.length);
  try {
    await writeMixedDataset(options.output, corpus, mergeImages(corpus, options, stats, () => progress.tick()));
  } finally {
    progress.stop();
  }
  log.debug(`merged and wrote ${options.output} (${clock.lap()})`);
  return { stats, excluded: { images: corpus.excluded.images.size, datapoints: corpus.excluded.datapoints }, options };
}

async function readExcludeList(file: string): Promise<Set<string>> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new UsageError(`${file}: cannot read: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  return parseExcludeList(file, text);
}

export function statsJson(report: MergeAnnotationsReport): Record<string, unknown> {
  const { stats } = report;
  const captions = stats.captionsPerDatapoint.reduce((sum, n, k) => sum + n * k, 0);
  return {
    images: stats.images,
    datapoints_in: stats.datapointsIn,
    datapoints_out: stats.datapointsOut,
    captions_per_datapoint: { mean: stats.datapointsOut ? captions / stats.datapointsOut : 0, max: stats.captionsPerDatapoint.length - 1 },
    // Images by how many combined datapoints (colours) they became.
    colour_histogram: Object.fromEntries(stats.datapointsPerImage.map((n, k) => [String(k), n]).filter(([, n]) => n)),
    uncombined: stats.uncombined,
    excluded: report.excluded,
  };
}

export function statsTable(report: MergeAnnotationsReport): string {
  const json = statsJson(report) as { captions_per_datapoint: { mean: number; max: number }; colour_histogram: Record<string, number> };
  const { stats, excluded } = report;
  const rows = [
    ["images", String(stats.images)],
    ["datapoints in", String(stats.datapointsIn)],
    ["datapoints out", String(stats.datapointsOut)],
    ["captions per datapoint, mean", json.captions_per_datapoint.mean.toFixed(2)],
    ["captions per datapoint, max", String(json.captions_per_datapoint.max)],
    ["datapoints combined with nothing", String(stats.uncombined)],
    ["excluded images (datapoints)", `${excluded.images} (${excluded.datapoints})`],
    ...Object.entries(json.colour_histogram).map(([k, n]) => [`images with ${k} colour${k === "1" ? "" : "s"}`, String(n)]),
  ];
  return formatTable(["statistic", "value"], rows);
}

const HELP = `
Modes:
  (default)       overlap by generalized IoU (--overlap giou; --overlap iou available); every combined
                  caption, separators and added '.' included, is at most --max-chars long; two
                  zero-area boxes overlap by 0.
  --mdetr-compat  exactly MDETR's released script (combine_datasets_train.py): IoU in float32, its
                  length rule (raw caption lengths so far + this length + 2 <= --max-chars, so a
                  combined caption can run past it), and a NaN overlap of two zero-area boxes leaves
                  that pair of datapoints without an edge.
  In both modes a caption over the limit on its own becomes a datapoint of its own.

Output: MDETR's final_mixed_train.json layout; coco images first, then vg images, each in order of
first appearance; original_id written as a string, as the script writes it.

Examples:
  $ mdetr merge-annotations refexp.json gqa.json vg.json -o final_mixed_train.json
  $ mdetr merge-annotations refexp.json vg.json -o mixed.json --mdetr-compat --stats -
  $ mdetr merge-annotations refexp.json -o mixed.json --exclude eval_images.txt --stats stats.json
`;

export function registerMergeAnnotations(program: Command, context: CommandContext): void {
  program
    .command("merge-annotations")
    .description("combine the captions of each image into MDETR pre-training datapoints (greedy graph colouring)")
    .argument("<inputs...>", "MDETR-style grounding COCO json files")
    .requiredOption("-o, --output <file>", "where to write the combined dataset")
    .option("--overlap <kind>", "box overlap: giou (default) or iou; --mdetr-compat implies iou")
    .option("--max-overlap <t>", "two captions conflict when some boxes overlap by more than t", "0.5")
    .option("--max-chars <n>", "longest combined caption", "250")
    .option("--mdetr-compat", "reproduce the released MDETR script, quirks included")
    .option("--exclude <file>", "drop the images listed as data_source:original_id lines")
    .option("--stats <file>", "write statistics as JSON to FILE ('-': a table on stdout)")
    .addHelpText("after", HELP)
    .action(async (inputs: string[], raw: Record<string, string | boolean | undefined>) => {
      const mdetrCompat = raw["mdetrCompat"] === true;
      const overlap = raw["overlap"] === undefined ? (mdetrCompat ? "iou" : "giou") : parseChoice("--overlap", String(raw["overlap"]), ["giou", "iou"] as const);
      if (mdetrCompat && overlap === "giou") throw new UsageError("--mdetr-compat measures overlap by IoU, as the released script does; drop --overlap giou");
      const maxChars = parseWholeNumber("--max-chars", String(raw["maxChars"]), 1);
      const options: MergeAnnotationsOptions = {
        inputs,
        output: String(raw["output"]),
        exclude: raw["exclude"] as string | undefined,
        overlap,
        maxOverlap: parseNumberIn("--max-overlap", String(raw["maxOverlap"]), 0, 1),
        maxChars,
        mdetrCompat,
      };
      const statsTarget = raw["stats"] as string | undefined;
      await checkOutputTarget("--output", options.output);
      await checkOutputTarget("--stats", statsTarget);
      const log = context.log();
      const report = await mergeAnnotations(options, log);
      const { stats } = report;
      log.info(`merged ${stats.datapointsIn} datapoints of ${stats.images} images into ${stats.datapointsOut} datapoints: ${options.output}`);
      if (report.excluded.datapoints > 0) log.info(`excluded ${report.excluded.images} images (${report.excluded.datapoints} datapoints)`);
      // `--stats -` is for people (a table); `--stats FILE` for machines (JSON).
      if (statsTarget === "-") process.stdout.write(statsTable(report));
      else if (statsTarget !== undefined) await writeFileAtomic(statsTarget, [JSON.stringify(statsJson(report), null, 2) + "\n"]);
    });
}
