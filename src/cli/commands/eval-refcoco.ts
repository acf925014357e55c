/** `mdetr eval refcoco`: RefCOCO/RefCOCO+/RefCOCOg precision@k, as MDETR's RefExpEvaluator. */
import { formatTable, percent } from "../../core/table.js";
import { evalRefcoco, type EvalRefcocoReport } from "../../evaluation/refcoco.js";
import { defineCommand, option } from "../define.js";
import { parseNumberIn } from "../options.js";

export function refcocoJson(report: EvalRefcocoReport): Record<string, Record<string, number>> {
  return Object.fromEntries(
    report.rows.map((row) => [row.dataset, { ...Object.fromEntries(row.precisionAt.map(({ k, precision }) => [`P@${k}`, precision])), count: row.count }]),
  );
}

export function refcocoTable(report: EvalRefcocoReport): string {
  const ks = report.rows[0]?.precisionAt.map(({ k }) => k) ?? [];
  const header = ["dataset", ...ks.map((k) => `P@${k} %`), "count"];
  const rows = report.rows.map((row) => [row.dataset, ...row.precisionAt.map(({ precision }) => percent(precision)), String(row.count)]);
  const title = refcocoProtocol(report) + (report.missing ? ` (${report.missing} expressions without predictions counted as misses)` : "");
  return `${title}\n${formatTable(header, rows)}`;
}

export function refcocoProtocol(report: EvalRefcocoReport): string {
  return report.match === "giou"
    ? `Precision@k, a hit when GIoU >= ${report.threshold} (MDETR's RefExpEvaluator, datasets/refexp.py)`
    : `Precision@k, a hit when IoU >= ${report.threshold} (the community protocol; --match giou gives MDETR's evaluator)`;
}

const HELP = `
Matching:
  --match iou   (default) IoU >= threshold: the community standard (GLIP, Grounding DINO, mmdetection).
  --match giou  generalized IoU >= threshold: what MDETR's released evaluator (datasets/refexp.py)
                computes, and so the numbers in the MDETR paper.

Predictions (detected by shape):
  COCO results  [{"image_id": 768, "bbox": [x, y, w, h], "score": 0.9}, ...]
  MDETR dict    {"768": {"boxes": [[x1, y1, x2, y2], ...], "scores": [...]}}

Examples:
  $ mdetr eval refcoco --annotations finetune_refcoco_testA.json --predictions preds.json
  $ mdetr eval refcoco --annotations finetune_refcocog_val.json --predictions preds.json --match giou --json results.json
  $ mdetr eval refcoco --annotations ann.json --predictions preds.json --k 1,5 --allow-missing --json -
  $ mdetr eval refcoco --annotations finetune_refcoco_testA.json --predictions shard1.json shard2.json --match giou
`;

export const evalRefcocoCommand = defineCommand({
  path: ["eval", "refcoco"],
  description: "RefCOCO/RefCOCO+/RefCOCOg precision@k of ranked box predictions (with --match giou: MDETR's evaluator, number for number)",
  options: {
    annotations: option.required("--annotations <file>", "MDETR fine-tuning annotations (finetune_refcoco_testA.json, ...)", { role: "input" }),
    predictions: option.files("--predictions <files...>", "predictions: COCO results list or MDETR dict; several files are shards (by expression) of one run"),
    match: option.choice("--match <kind>", "box match: iou or giou (see below)", ["iou", "giou"], "iou"),
    // Its range depends on --match (a GIoU can be negative), so run() parses it.
    iouThreshold: option.text("--iou-threshold <t>", "a box matches at overlap >= t (from 0 to 1; with giou from -1)", "0.5"),
    k: option.ranks("--k <list>", "ranks to report, comma-separated", "1,5,10"),
    allowMissing: option.flag("--allow-missing", "count expressions without predictions as misses instead of failing"),
  },
  help: HELP,
  async run(options, _args, context) {
    const iouThreshold = parseNumberIn("--iou-threshold", options.iouThreshold, options.match === "giou" ? -1 : 0, 1);
    const report = await evalRefcoco({ ...options, iouThreshold }, context);
    return {
      table: refcocoTable(report),
      json: refcocoJson(report),
      protocol: refcocoProtocol(report),
      settings: { iou_threshold: iouThreshold, prediction_format: report.predictionFormat },
    };
  },
});
