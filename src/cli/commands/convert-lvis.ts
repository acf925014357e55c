/** `mdetr convert lvis`: MDETR's LVIS few-shot training sets (1%, 10%, ...), image for image. */
import { formatTable } from "../../core/table.js";
import type { ConvertLvisReport } from "../../convert/lvis/convert-lvis.js";
import { defineCommand, option } from "../define.js";
import { parseFraction, parseInteger } from "../options.js";

export function convertProtocol(report: ConvertLvisReport): string {
  const format = report.format === "mdetr" ? "as MDETR datapoints (lvis_coco_format.py), images in file order" : "as an LVIS subset (subsample_lvis.py)";
  if (!report.sampled) return `every image (fraction 1, no sampling), ${format}`;
  return `MDETR's balanced sampler (get_subset), seed ${report.seed}: int(${report.images.total} x ${report.fraction}) = ${report.targetCount} images, ${format}`;
}

export function convertJson(report: ConvertLvisReport): Record<string, unknown> {
  return {
    images: report.images,
    annotations: report.annotations,
    ...(report.datapoints ? { datapoints: { ...report.datapoints, total: report.datapoints.positive + report.datapoints.negative } } : {}),
    categories_covered: report.categories,
    target_count: report.targetCount,
    sampled: report.sampled,
    reference_name: report.referenceName,
    reference_file: report.referenceFile,
  };
}

export function convertTable(report: ConvertLvisReport): string {
  const of = (part: { kept: number; total: number }) => `${part.kept} of ${part.total}`;
  const rows = [
    ["images", of(report.images)],
    ["annotations", of(report.annotations)],
    ...(report.datapoints
      ? [["datapoints (positive + negative)", `${report.datapoints.positive + report.datapoints.negative} (${report.datapoints.positive} + ${report.datapoints.negative})`]]
      : []),
    ...(["r", "c", "f"] as const).map((f) => [`${f} categories with an image`, `${report.categories[f].covered} of ${report.categories[f].total}`]),
    ["MDETR's name for it", `${report.referenceName} (${report.referenceFile})`],
  ];
  return `${convertProtocol(report)}\n${formatTable(["statistic", "value"], rows)}`;
}

const HELP = `
Sampling (MDETR's few-shot LVIS sets, scripts/fine-tuning/lvis_coco_format.py get_subset):
  --fraction 1 (the default, also 1.0 or 1e0) keeps every image: no sampling. Any other fraction picks
  int(images x fraction) images with MDETR's seeded, balanced sampler, the same images as MDETR for the
  same file and seed: every tenth pick (the 1st, 11th, ...) takes an image for its negative categories,
  the others for the least covered category; at the end every category must have an image.
  The sampler fails (exit 2, no output) where MDETR's asserts: no image left for a pick, or a category
  without an image (and so does a fraction whose count is 0 or more than the images).

Formats:
  --format lvis   (default) what subsample_lvis.py writes (detection_lvisN_train.json), for any
                  detector: info, licenses [], the kept images and their annotations in file order with
                  every field, categories unchanged.
  --format mdetr  what lvis_coco_format.py writes (finetune_lvisN_train.json), for MDETR: per image one
                  datapoint per category present (caption clean_name(name), all its boxes) and one per
                  neg_category_ids entry. Images come in file order; MDETR's own file follows Python's
                  set order, which this does not reproduce.

Examples:
  $ mdetr convert lvis --annotations lvis_v1_train.json --fraction 0.01 -o detection_lvis1_train.json
  $ mdetr convert lvis --annotations lvis_v1_train.json --fraction 0.1 --format mdetr -o finetune_lvis10_train.json
  $ mdetr convert lvis --annotations lvis_v1_train.json --fraction 0.1 --seed 7 -o lvis10_seed7.json --json summary.json
`;

export const convertLvisCommand = defineCommand({
  path: ["convert", "lvis"],
  description: "LVIS few-shot training sets: MDETR's seeded, balanced subset, as LVIS or as MDETR datapoints",
  options: {
    annotations: option.required("--annotations <file>", "LVIS v1 training annotations (lvis_v1_train.json)", { role: "input" }),
    fraction: option.parsed("--fraction <f>", "share of the images to keep (0.01, 0.1, ...); 1 keeps all without sampling", "1", parseFraction),
    seed: option.parsed("--seed <n>", "the sampler's random.seed (MDETR: 42); any integer", "42", parseInteger),
    format: option.choice("--format <format>", "lvis (subsample_lvis.py) or mdetr (lvis_coco_format.py)", ["lvis", "mdetr"], "lvis"),
    output: option.required("-o, --output <file>", "where to write the training set", { role: "output" }),
  },
  help: HELP,
  async run(options, _args, context) {
    const { convertLvis } = await import("../../convert/lvis/convert-lvis.js");
    const report = await convertLvis(options, context);
    context.log.info(`wrote ${report.images.kept} images, ${report.annotations.kept} annotations: ${options.output}`);
    return { table: convertTable(report), json: convertJson(report), protocol: convertProtocol(report) };
  },
});
