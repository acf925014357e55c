/** `mdetr eval flickr30k`: Flickr30k Entities phrase-grounding recall@k, as MDETR's evaluator. */
import { formatTable, percent } from "../../core/table.js";
import type { EvalFlickrReport } from "../../evaluation/flickr30k.js";
import { defineCommand, option } from "../define.js";

export function flickrJson(report: EvalFlickrReport): Record<string, Record<string, number>> {
  const json: Record<string, Record<string, number>> = {};
  for (const { k, byType } of report.recall.recallAt) json[`R@${k}`] = Object.fromEntries(byType);
  json["upper_bound"] = Object.fromEntries(report.recall.upperBound);
  return json;
}

export function flickrTable(report: EvalFlickrReport): string {
  const categories = [...report.recall.upperBound.keys()];
  const rows = [
    ...report.recall.recallAt.map(({ k, byType }) => [`R@${k}`, ...categories.map((c) => percent(byType.get(c)!))]),
    ["Upper bound", ...categories.map((c) => percent(report.recall.upperBound.get(c)!))],
  ];
  const title = `Recall@k (%) of ${report.phrases} phrases in ${report.sentences} sentences, ${flickrProtocol(report)}`;
  return `${title}\n${formatTable(["", ...categories], rows)}`;
}

function flickrProtocol(report: EvalFlickrReport): string {
  return report.merged ? "merged boxes (one box per entity)" : "separate boxes";
}

const HELP = `
Protocols:
  (default)  any of the entity's ground-truth boxes may match
  --merged   an entity's boxes are replaced by their enclosing box (Plummer et al.)

Predictions (MDETR's format): [{"image_id": "1000092795", "sentence_id": 0,
  "boxes": [[[x1, y1, x2, y2], ...ranked...], ...one list per phrase with a box, in sentence order]}]

Examples:
  $ mdetr eval flickr30k --flickr-dir flickr30k_entities/ --split test --predictions preds.json
  $ mdetr eval flickr30k --flickr-dir flickr30k_entities/ --split val --predictions preds.json --merged --json -
  $ mdetr eval flickr30k --flickr-dir flickr30k_entities/ --split test --predictions shard1.json shard2.json
`;

export const evalFlickr30kCommand = defineCommand({
  path: ["eval", "flickr30k"],
  description: "Flickr30k Entities phrase-grounding recall@k, identical to MDETR's evaluator",
  options: {
    flickrDir: option.required("--flickr-dir <dir>", "the dataset as distributed: {train,val,test}.txt, Annotations/, Sentences/", { role: "input" }),
    predictions: option.files("--predictions <files...>", "predictions in MDETR's format; several files are shards (by sentence) of one run"),
    split: option.choice("--split <split>", "test, val or train", ["test", "val", "train"], "test"),
    merged: option.flag("--merged", "merged-box protocol: one enclosing box per entity"),
    iouThreshold: option.number("--iou-threshold <t>", "a box matches at IoU >= t", { default: 0.5, min: 0, max: 1 }),
    k: option.ranks("--k <list>", "ranks to report, comma-separated", "1,5,10"),
  },
  help: HELP,
  async run(options, _args, context) {
    const { evalFlickr30k } = await import("../../evaluation/flickr30k.js");
    const report = await evalFlickr30k(options, context);
    return { table: flickrTable(report), json: flickrJson(report), protocol: `MDETR's Flickr30kEntitiesRecallEvaluator, ${flickrProtocol(report)}` };
  },
});
