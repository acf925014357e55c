/** `mdetr merge-annotations`: MDETR pre-training datapoints by graph colouring. */
import { UsageError } from "../../core/errors.js";
import { formatTable } from "../../core/table.js";
import type { MergeAnnotationsReport } from "../../merge/merge-annotations.js";
import { defineCommand, option } from "../define.js";

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

Statistics: a table on stdout; --json FILE|- writes them as JSON with a meta block.

Output: MDETR's final_mixed_train.json layout; coco images first, then vg images, each in order of
first appearance; original_id written as a string, as the script writes it.

Examples:
  $ mdetr merge-annotations refexp.json gqa.json vg.json -o final_mixed_train.json
  $ mdetr merge-annotations refexp.json vg.json -o mixed.json --mdetr-compat
  $ mdetr merge-annotations refexp.json -o mixed.json --exclude eval_images.txt --json stats.json
`;

function mergeProtocol(report: MergeAnnotationsReport): string {
  const { options } = report;
  return options.mdetrCompat
    ? `MDETR's combine_datasets_train.py as released (IoU > ${options.maxOverlap}, its length rule with ${options.maxChars} characters)`
    : `${options.overlap === "giou" ? "GIoU" : "IoU"} > ${options.maxOverlap} makes an edge; combined captions of at most ${options.maxChars} characters`;
}

export const mergeAnnotationsCommand = defineCommand({
  path: ["merge-annotations"],
  description: "combine the captions of each image into MDETR pre-training datapoints (greedy graph colouring)",
  arguments: { name: "<inputs...>", description: "MDETR-style grounding COCO json files", role: "input" },
  options: {
    output: option.required("-o, --output <file>", "where to write the combined dataset", { role: "output" }),
    overlap: option.optionalChoice("--overlap <kind>", "box overlap: giou (default) or iou; --mdetr-compat implies iou", ["giou", "iou"]),
    maxOverlap: option.number("--max-overlap <t>", "two captions conflict when some boxes overlap by more than t", { default: 0.5, min: 0, max: 1 }),
    maxChars: option.number("--max-chars <n>", "longest combined caption", { default: 250, min: 1, integer: true }),
    mdetrCompat: option.flag("--mdetr-compat", "reproduce the released MDETR script, quirks included"),
    exclude: option.optional("--exclude <file>", "drop the images listed as data_source:original_id lines", { role: "input" }),
  },
  help: HELP,
  async run(options, inputs, context) {
    if (options.mdetrCompat && options.overlap === "giou") throw new UsageError("--mdetr-compat measures overlap by IoU, as the released script does; drop --overlap giou");
    const overlap = options.overlap ?? (options.mdetrCompat ? "iou" : "giou");
    const { mergeAnnotations } = await import("../../merge/merge-annotations.js");
    const report = await mergeAnnotations({ ...options, overlap, inputs }, context);
    const { stats } = report;
    context.log.info(`merged ${stats.datapointsIn} datapoints of ${stats.images} images into ${stats.datapointsOut} datapoints: ${options.output}`);
    if (report.excluded.datapoints > 0) context.log.info(`excluded ${report.excluded.images} images (${report.excluded.datapoints} datapoints)`);
    return { table: `${mergeProtocol(report)}\n${statsTable(report)}`, json: statsJson(report), protocol: mergeProtocol(report), settings: { overlap } };
  },
});
