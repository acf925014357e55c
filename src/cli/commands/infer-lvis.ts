/** `mdetr infer lvis`: a model over LVIS with every category, the detections both protocols read, `--eval` in-process. */
import { defineCommand, option } from "../define.js";
import { benchmarkOptions, prepareBenchmarkRun } from "./benchmark-run.js";
import { lvisTable, protocolLine } from "./eval-lvis.js";

const HELP = `
Every picture (images[], sorted by id; --images/<last two parts of coco_url>, else --images/<file_name>)
with every category (sorted by id), pictures decoded as MDETR's datasets decode them (stored pixels,
no EXIF rotation), each picture decoded once for all its prompts.
Prompts:
  --prompts per-category  (default) MDETR's scripts/eval_lvis.py: each category's clean_name is its own
                          prompt; each query is a detection of it, scored as infer refcoco scores boxes.
  --prompts chunked       GLIP's: --chunk-size categories per prompt, clean names joined by ". "; the
                          score of (query, category) is the mean of the query's token probabilities over
                          the category's tokens (MDETR's create_positive_map rules).
Output (--out): a COCO results list [{image_id, category_id, bbox: [x, y, w, h], score}] holding, of all
detections D, each picture's top --max-dets-per-image and each category's top --topk-per-category over
the whole set (ties: D's order; written in D's order): with the defaults, what standard and fixed AP
read of D, so the file scores as D would (D itself has about 5e9 detections on minival).
--eval scores it in-process as eval lvis does (--ap fixed, MDETR's protocol, or standard); --json FILE
writes that result with meta (and implies --eval). --shard K/N: the K-th (from 1) of N blocks of the
pictures; eval lvis takes the N files (--predictions s1.json s2.json ...) and scores them as one run.

Examples:
  $ mdetr infer lvis --annotations lvis_v1_minival.json --images coco/ --model mdetr.onnx -o dets.json --eval
  $ mdetr infer lvis --annotations lvis_v1_minival.json --images coco/ --model glip.onnx --prompts chunked -o dets.json --json results.json
  $ mdetr infer lvis --annotations lvis_v1_minival.json --images coco/ --model mdetr.onnx -o dets_\${SLURM_ARRAY_TASK_ID}.json --shard \${SLURM_ARRAY_TASK_ID}/16
`;

export const inferLvisCommand = defineCommand({
  path: ["infer", "lvis"],
  description: "run a grounding model (ONNX) over LVIS with every category: the detections both LVIS protocols read, --eval for AP",
  options: {
    annotations: option.required("--annotations <file>", "LVIS v1 ground truth (lvis_v1_minival.json, ...)", { role: "input" }),
    ...benchmarkOptions("the pictures (coco_url's last two parts, or file_name, inside it)", "prompts per model run (MDETR: 32)", 32),
    out: option.required("-o, --out <file>", "the detections (a COCO results list)", { role: "output" }),
    prompts: option.choice("--prompts <mode>", "per-category or chunked", ["per-category", "chunked"], "per-category"),
    chunkSize: option.number("--chunk-size <n>", "chunked: categories per prompt (GLIP: 40)", { default: 40, min: 1, integer: true }),
    maxDetsPerImage: option.number("--max-dets-per-image <m>", "keep each picture's top m (standard AP reads 300)", { default: 300, min: -1, integer: true }),
    topkPerCategory: option.number("--topk-per-category <k>", "keep each category's top k over all pictures (fixed AP reads 10000)", { default: 10000, min: 0, integer: true }),
    ap: option.choice("--ap <protocol>", "--eval: fixed or standard", ["fixed", "standard"], "fixed"),
  },
  help: HELP,
  async run(options, _args, context) {
    const { tokenizer, shard } = prepareBenchmarkRun(options, context, "eval lvis");
    // Loads sharp, onnxruntime and the tokenizer only when this command runs.
    const { inferLvis } = await import("../../inference/infer-lvis.js");
    const report = await inferLvis({ ...options, tokenizer, shard, verbose: context.verbose }, context);
    context.log.info(`${report.pictures} pictures x ${report.prompts} prompts on ${report.device}: ${report.detections} detections, ${report.kept} kept: ${options.out}`);
    const settings = { scoring: report.scoring, shard: options.shard ?? null };
    const inferred = `${options.prompts === "chunked" ? `GLIP's chunked prompts (${options.chunkSize} categories, mean over tokens)` : "MDETR's per-category prompts"}, ${report.scoring} scoring, top ${options.maxDetsPerImage} per picture and ${options.topkPerCategory} per category kept`;
    if (!options.evaluate && context.jsonTarget === undefined) {
      return { table: "", json: { pictures: report.pictures, detections: report.detections, kept: report.kept }, protocol: inferred, settings, inputs: { tokenizer } };
    }
    // The evaluators' own caps: with the keeping defaults, the file scores as all detections would.
    const { evalLvis } = await import("../../evaluation/lvis.js");
    const evaluation = await evalLvis({ annotations: options.annotations, predictions: [options.out], protocol: options.ap, maxDets: 300, detsPerCategory: 10000, ignoreUnknownImages: false, iouType: "bbox" }, context);
    return { table: lvisTable(evaluation), json: evaluation.evaluation.metrics, protocol: `${inferred}; ${protocolLine(evaluation)}`, settings, inputs: { tokenizer } };
  },
});
