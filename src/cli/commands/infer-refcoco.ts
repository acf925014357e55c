/** `mdetr infer refcoco`: a model over a RefCOCO/+/g annotation file, MDETR's prediction dict out, `--eval` in-process. */
import { defineCommand, option } from "../define.js";
import { benchmarkOptions, prepareBenchmarkRun } from "./benchmark-run.js";
import { parseNumberIn } from "../options.js";
import { refcocoJson, refcocoProtocol, refcocoTable } from "./eval-refcoco.js";

const HELP = `
One model run per expression (images[] entry of MDETR's finetune_refcoco*.json): the caption verbatim
as the prompt, the picture --images/<file_name> decoded as MDETR's datasets decode it (stored pixels,
no EXIF rotation: the annotations are in that frame), each picture decoded once for all its
expressions. Model contract, tokenizer and scoring: those of infer dir (see README).

Output (--out): MDETR's prediction dict {"<images[].id>": {"boxes": [[x1,y1,x2,y2] x Q], "scores": [Q]}},
every query, best first: what eval refcoco reads.
--eval scores it in-process as eval refcoco does (--match, --k, --iou-threshold) and prints the table;
--json FILE writes that result, with a meta block naming the model, its hash and the scoring (and
implies --eval).
--shard K/N runs the K-th (from 1) of N contiguous blocks of the pictures, sorted by id: give eval
refcoco all N files (--predictions s1.json s2.json ...).
--resume: a run keeps its progress in OUT.progress.jsonl until OUT is written; rerun with --resume to
skip what is done (only with the same annotations, model, tokenizer, scoring and shard).

Examples:
  $ mdetr infer refcoco --annotations finetune_refcoco_testA.json --images coco/train2014 --model mdetr.onnx --out preds.json --eval
  $ mdetr infer refcoco --annotations finetune_refcocog_val.json --images coco/train2014 --model mdetr.onnx -o preds.json --json results.json --match giou
  $ mdetr infer refcoco --annotations finetune_refcoco_testA.json --images coco/train2014 --model mdetr.onnx -o preds_\${SLURM_ARRAY_TASK_ID}.json --shard \${SLURM_ARRAY_TASK_ID}/8
`;

export const inferRefcocoCommand = defineCommand({
  path: ["infer", "refcoco"],
  description: "run a grounding model (ONNX) over a RefCOCO/RefCOCO+/RefCOCOg annotation file: MDETR's prediction dict, --eval for precision@k",
  options: {
    annotations: option.required("--annotations <file>", "MDETR fine-tuning annotations (finetune_refcoco_testA.json, ...)", { role: "input" }),
    ...benchmarkOptions("the pictures (file_name of each images[] entry inside it)", "expressions per model run", 1),
    out: option.required("-o, --out <file>", "the predictions (MDETR's dict)", { role: "output" }),
    resume: option.flag("--resume", "continue an interrupted run (its progress is kept in OUT.progress.jsonl)", { role: "behaviour" }),
    match: option.choice("--match <kind>", "--eval: box match iou or giou", ["iou", "giou"], "iou"),
    iouThreshold: option.text("--iou-threshold <t>", "--eval: a box matches at overlap >= t", "0.5"),
    k: option.ranks("--k <list>", "--eval: ranks to report", "1,5,10"),
  },
  help: HELP,
  async run(options, _args, context) {
    const { tokenizer, shard } = prepareBenchmarkRun(options, context, "eval refcoco");
    const iouThreshold = parseNumberIn("--iou-threshold", options.iouThreshold, options.match === "giou" ? -1 : 0, 1);
    // Loads sharp, onnxruntime and the tokenizer only when this command runs.
    const { inferRefcoco } = await import("../../inference/infer-refcoco.js");
    const report = await inferRefcoco({ ...options, tokenizer, shard, verbose: context.verbose }, context);
    context.log.info(`${report.expressions} expressions on ${report.pictures} pictures, ${report.device}: ${options.out}`);
    const settings = { scoring: report.scoring, shard: options.shard ?? null, iou_threshold: iouThreshold };
    const inferred = `MDETR's PostProcess (all queries, best first), ${report.scoring} scoring`;
    if (!options.evaluate && context.jsonTarget === undefined) {
      return { table: "", json: { expressions: report.expressions, pictures: report.pictures }, protocol: inferred, settings, inputs: { tokenizer } };
    }
    const { evalRefcoco } = await import("../../evaluation/refcoco.js");
    const evaluation = await evalRefcoco({ annotations: options.annotations, predictions: [options.out], match: options.match, iouThreshold, k: options.k, allowMissing: false }, context);
    return { table: refcocoTable(evaluation), json: refcocoJson(evaluation), protocol: `${inferred}; ${refcocoProtocol(evaluation)}`, settings, inputs: { tokenizer } };
  },
});
