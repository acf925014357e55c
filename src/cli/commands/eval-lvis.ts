/** `mdetr eval lvis`: LVIS box or mask AP, standard (lvis-api) or fixed (Dave et al. 2021, as MDETR). */
import { writeFileAtomic } from "../../core/atomic-write.js";
import { formatTable } from "../../core/table.js";
import type { EvalLvisReport } from "../../evaluation/lvis.js";
import { FREQUENCIES } from "../../formats/lvis/frequency.js";
import { defineCommand, option } from "../define.js";
import { parseThreads } from "../options.js";

export function protocolLine(report: Pick<EvalLvisReport, "selection" | "iouType" | "areaFromBox">): string {
  const { selection } = report;
  if (report.iouType === "segm") {
    return selection.protocol === "fixed"
      ? `fixed mask AP (large-vocab-devil's evaluate_ap_fixed.py --type segm): the ${selection.detsPerCategory} best detections per category over the whole set, no per-image cap; detection area = mask area`
      : `standard mask AP (lvis-api, iou_type="segm"): at most ${selection.maxDets} detections per image; detection area = ${report.areaFromBox ? "bbox w * h (the first detection has a bbox)" : "mask area"}`;
  }
  return selection.protocol === "fixed"
    ? `fixed AP (Dave et al. 2021, as MDETR reports it): the ${selection.detsPerCategory} best detections per category over the whole set, no per-image cap`
    : `standard AP (lvis-api): at most ${selection.maxDets} detections per image`;
}

export function lvisTable(report: EvalLvisReport): string {
  const rows = Object.entries(report.evaluation.metrics).map(([key, value]) => [key, value === -1 ? "-1 (none)" : (100 * value).toFixed(2)]);
  return `${protocolLine(report)}\n${formatTable(["metric", "%"], rows)}`;
}

function csvField(text: string): string {
  return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function perCategoryCsv(report: EvalLvisReport): string {
  const { groundTruth: gt, evaluation } = report;
  const lines = ["id,name,frequency,num_gt,num_dets,AP,AP50"];
  evaluation.perCategory.forEach((row, c) => {
    lines.push([String(gt.categoryIds[c]), csvField(gt.categoryNames[c]!), FREQUENCIES[gt.frequency[c]!]!, String(row.numGt), String(row.numDets), String(row.ap), String(row.ap50)].join(","));
  });
  return `${lines.join("\n")}\n`;
}

const HELP = `
Protocols:
  --ap fixed     (default) the current LVIS protocol and what MDETR reports ("fixed AP", Dave et al.
                 2021, MDETR's LvisEvaluatorFixedAP): the --dets-per-category best detections of each
                 category over the whole set, no per-image cap.
  --ap standard  lvis-api's LVISEval: at most --max-dets detections per image.

IoU types:
  --iou-type bbox  (default) box AP.
  --iou-type segm  mask AP (pycocotools' mask IoU). Ground truth and detections carry
                   "segmentation": polygons [[x1, y1, ...], ...], uncompressed RLE {size, counts: [..]}
                   or compressed RLE {size, counts: "..."}; RLE sizes must be the image's [height, width].
                   GT area = the annotation's "area" field. Detection area: standard AP as lvis-api
                   decides it (the first detection has a "bbox": every area is the box's w * h;
                   otherwise the mask's pixel count); fixed AP always the mask's pixel count
                   (large-vocab-devil's evaluate_ap_fixed.py --type segm, where MDETR's fixed AP comes from).
Keys: AP AP50 AP75 APs APm APl APr APc APf AR@300 ARs@300 ARm@300 ARl@300 (as lvis-api names them);
-1 means nothing to average (no ground truth in that group).

Examples:
  $ mdetr eval lvis --annotations lvis_v1_minival.json --predictions dets.json
  $ mdetr eval lvis --annotations lvis_v1_val.json --predictions dets.json --ap standard --json results.json
  $ mdetr eval lvis --annotations lvis_v1_val.json --predictions dets.json --per-category per_class.csv
  $ mdetr eval lvis --annotations lvis_v1_minival.json --predictions shard1.json shard2.json shard3.json
  $ mdetr eval lvis --iou-type segm --annotations lvis_v1_val.json --predictions segm_results.json --ap standard
`;

export const evalLvisCommand = defineCommand({
  path: ["eval", "lvis"],
  description: "LVIS box or mask AP (fixed or standard), identical to lvis-api / MDETR, streaming files of any size",
  options: {
    annotations: option.required("--annotations <file>", "LVIS v1 ground truth (lvis_v1_val.json, ...)", { role: "input" }),
    predictions: option.files("--predictions <files...>", "detections: a COCO results list [{image_id, category_id, bbox, score}] (segm: with segmentation); several files are shards (by image) of one run"),
    iouType: option.choice("--iou-type <type>", "bbox (box AP) or segm (mask AP)", ["bbox", "segm"], "bbox"),
    protocol: option.choice("--ap <protocol>", "fixed or standard", ["fixed", "standard"], "fixed"),
    maxDets: option.number("--max-dets <n>", "standard AP: detections kept per image (-1: no cap)", { default: 300, min: -1, integer: true }),
    detsPerCategory: option.number("--dets-per-category <n>", "fixed AP: detections kept per category", { default: 10000, min: 1, integer: true }),
    perCategory: option.optional("--per-category <file>", "write per-category AP as CSV", { role: "output" }),
    ignoreUnknownImages: option.flag("--ignore-unknown-images", "skip detections for images not in the ground truth (with a warning)"),
    threads: option.parsed("--threads <n>", "threads for the evaluation, by category: a number, or auto (two for box results of 256 MiB or more where there are two cores, else one); no effect on the numbers", "auto", parseThreads, { role: "behaviour" }),
  },
  help: HELP,
  async run(options, _args, context) {
    const { evalLvis } = await import("../../evaluation/lvis.js");
    const report = await evalLvis(options, context);
    if (options.perCategory) await writeFileAtomic(options.perCategory, [perCategoryCsv(report)]);
    return { table: lvisTable(report), json: report.evaluation.metrics, protocol: protocolLine(report), ...(report.iouType === "segm" && { settings: { detection_area: report.areaFromBox ? "bbox" : "mask" } }) };
  },
});
