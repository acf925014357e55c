/**
 * `mdetr eval refcoco`: RefCOCO/RefCOCO+/RefCOCOg precision@k of boxes, as MDETR's RefExpEvaluator
 * (`--iou-type bbox`), or referring-expression segmentation as LAVT-RIS / CRIS / ReLA score it
 * (`--iou-type segm`).
 */
import { UsageError } from "../../core/errors.js";
import { formatTable, percent } from "../../core/table.js";
import type { EvalRefcocoReport } from "../../evaluation/refcoco.js";
import { RES_VARIANTS } from "../../metrics/refexp-segm.js";
import { defineCommand, option } from "../define.js";
import { parseKList, parseNumberIn } from "../options.js";
import { refcocoSegmJson, refcocoSegmProtocol, refcocoSegmTable } from "./refcoco-segm-output.js";

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
Boxes (--iou-type bbox, the default): precision@k of ranked boxes.
  --match iou   (default) IoU >= threshold: the community standard (GLIP, Grounding DINO, mmdetection).
  --match giou  generalized IoU >= threshold: what MDETR's released evaluator (datasets/refexp.py)
                computes, and so the numbers in the MDETR paper.
  Predictions (detected by shape):
    COCO results  [{"image_id": 768, "bbox": [x, y, w, h], "score": 0.9}, ...]
    MDETR dict    {"768": {"boxes": [[x1, y1, x2, y2], ...], "scores": [...]}}

Masks (--iou-type segm): referring-expression segmentation, per dataset_name (default "all").
  Ground truth: the union of each expression's annotations' masks, from --instances by each
    annotation's original_id (MDETR's finetune_refcoco*.json have no masks), else from the
    annotations' own segmentation (polygons or RLE); no annotation = a no-target expression.
  Predictions: a COCO results list [{"image_id": 768, "segmentation": {"size": [h, w], "counts": "..."},
    "score": 0.9}, ...] (polygons and RLE; the highest score per expression counts), or a folder of
    <id>.png masks (any nonzero colour channel is foreground), at the image's size.
  --metric-variant lavt  (default) LAVT-RIS test.py: mIoU, oIoU = sum I / sum U, prec@0.5..0.9 = IoU >= X.
  --metric-variant cris  CRIS.pytorch: IoU = mean of I / (U + 1e-6), Pr@50..Pr@90 = IoU > X (float32 X).
  Datasets with no-target expressions also get ReLA's gIoU, cIoU, N-acc, T-acc (an empty mask
  predicts no target). --match, --iou-threshold and --k are refused with segm.

Examples:
  $ mdetr eval refcoco --annotations finetune_refcoco_testA.json --predictions preds.json
  $ mdetr eval refcoco --annotations finetune_refcocog_val.json --predictions preds.json --match giou --json results.json
  $ mdetr eval refcoco --annotations ann.json --predictions preds.json --k 1,5 --allow-missing --json -
  $ mdetr eval refcoco --annotations finetune_refcoco_testA.json --predictions shard1.json shard2.json --match giou
  $ mdetr eval refcoco --iou-type segm --annotations finetune_refcoco_val.json --instances instances_train2014.json --predictions masks.json
  $ mdetr eval refcoco --iou-type segm --annotations grefs_val.json --predictions masks/ --json results.json
  $ mdetr eval refcoco --iou-type segm --annotations refcoco_val.json --predictions masks.json --metric-variant cris
`;

/** Options that belong to one --iou-type only: given with the other, they are refused, not ignored. */
function checkModeOptions(options: { iouType: "bbox" | "segm"; match?: string; iouThreshold?: string; k?: string; instances?: string; metricVariant?: string }): void {
  const given = (pairs: [string, unknown][]) => pairs.filter(([, value]) => value !== undefined).map(([flag]) => flag);
  const wrong = options.iouType === "segm"
    ? given([["--match", options.match], ["--iou-threshold", options.iouThreshold], ["--k", options.k]])
    : given([["--instances", options.instances], ["--metric-variant", options.metricVariant]]);
  if (wrong.length === 0) return;
  const what = options.iouType === "segm" ? "box matching options, which masks do not use" : "mask options: add --iou-type segm";
  throw new UsageError(`${wrong.join(", ")}: ${what} (--iou-type ${options.iouType})`);
}

export const evalRefcocoCommand = defineCommand({
  path: ["eval", "refcoco"],
  description: "RefCOCO/RefCOCO+/RefCOCOg precision@k of ranked boxes (with --match giou: MDETR's evaluator, number for number), or mask mIoU / oIoU / prec@X (--iou-type segm)",
  options: {
    iouType: option.choice("--iou-type <type>", "bbox: ranked boxes, precision@k; segm: masks, mIoU / oIoU / prec@X (see below)", ["bbox", "segm"], "bbox"),
    annotations: option.required("--annotations <file>", "MDETR fine-tuning annotations (finetune_refcoco_testA.json, ...); segm: any such COCO file of expressions, with or without masks", { role: "input" }),
    instances: option.optional("--instances <file>", "segm: COCO instances (instances_train2014.json) holding the masks the annotations' original_id name", { role: "input" }),
    predictions: option.files("--predictions <files...>", "bbox: COCO results list or MDETR dict; segm: COCO results list with masks, or a folder of <id>.png; several JSON files are shards (by expression) of one run"),
    // The bbox options have no commander default, so that giving one with segm can be refused;
    // run() applies the defaults and puts them in meta.
    match: option.optionalChoice("--match <kind>", "bbox: box match, iou (default) or giou (see below)", ["iou", "giou"]),
    // Its range depends on --match (a GIoU can be negative), so run() parses it.
    iouThreshold: option.optional("--iou-threshold <t>", "bbox: a box matches at overlap >= t (default 0.5; from 0 to 1, with giou from -1)"),
    k: option.optional("--k <list>", "bbox: ranks to report, comma-separated (default 1,5,10)"),
    metricVariant: option.optionalChoice("--metric-variant <name>", "segm: lavt (default: LAVT-RIS test.py) or cris (CRIS.pytorch's rule)", RES_VARIANTS),
    allowMissing: option.flag("--allow-missing", "count expressions without predictions as misses (bbox) or empty masks (segm) instead of failing"),
  },
  help: HELP,
  async run(options, _args, context) {
    checkModeOptions(options);
    if (options.iouType === "segm") {
      const variant = options.metricVariant ?? "lavt";
      const { evalRefcocoSegm } = await import("../../evaluation/refcoco-segm.js");
      const report = await evalRefcocoSegm({ annotations: options.annotations, instances: options.instances, predictions: options.predictions, variant, allowMissing: options.allowMissing }, context);
      return {
        table: refcocoSegmTable(report),
        json: refcocoSegmJson(report),
        protocol: refcocoSegmProtocol(report),
        // undefined drops a key from meta (JSON.stringify leaves it out): box settings mean nothing here.
        settings: { match: undefined, iou_threshold: undefined, k: undefined, metric_variant: variant, prediction_format: report.predictionFormat },
      };
    }
    const match = options.match ?? "iou";
    const iouThreshold = parseNumberIn("--iou-threshold", options.iouThreshold ?? "0.5", match === "giou" ? -1 : 0, 1);
    const k = parseKList("--k", options.k ?? "1,5,10");
    const { evalRefcoco } = await import("../../evaluation/refcoco.js");
    const report = await evalRefcoco({ annotations: options.annotations, predictions: options.predictions, match, iouThreshold, k, allowMissing: options.allowMissing }, context);
    return {
      table: refcocoTable(report),
      json: refcocoJson(report),
      protocol: refcocoProtocol(report),
      settings: { match, iou_threshold: iouThreshold, k, metric_variant: undefined, prediction_format: report.predictionFormat },
    };
  },
});
