/** `mdetr infer flickr30k`: a model over a Flickr30k Entities split, eval flickr30k's format, `--eval` in-process. */
import { defineCommand, option } from "../define.js";
import { benchmarkOptions, prepareBenchmarkRun } from "./benchmark-run.js";
import { flickrJson, flickrTable } from "./eval-flickr30k.js";

const HELP = `
One model run per sentence of the split ({split}.txt, Sentences/, Annotations/ as distributed), on the
picture --images/<id>.jpg decoded as stored (no EXIF rotation), each picture decoded once for its
sentences. Captions and phrase spans as MDETR's flickr_combined.py builds them (words joined by one
space; a phrase's span from the lengths of the words before it); the scored phrases are those whose
entity has a box. Each phrase's Q boxes are ranked by the highest probability over its tokens
(PostProcessFlickr: the max, not the mean), tokens found as MDETR's create_positive_map finds them.
Output (--out): eval flickr30k's list [{"image_id", "sentence_id", "boxes": [[ranked boxes] per phrase]}],
one entry per sentence ([] for a sentence without a scored phrase).
--eval scores it in-process as eval flickr30k does (--merged, --k, --iou-threshold); --json FILE writes that
result with meta (and implies --eval). --shard K/N: the K-th (from 1) of N blocks of the pictures, sorted by id.

Examples:
  $ mdetr infer flickr30k --flickr-dir flickr30k_entities/ --split test --images flickr30k-images/ --model mdetr.onnx -o preds.json --eval
  $ mdetr infer flickr30k --flickr-dir flickr30k_entities/ --split val --images flickr30k-images/ --model mdetr.onnx -o preds.json --json results.json --merged
`;

export const inferFlickr30kCommand = defineCommand({
  path: ["infer", "flickr30k"],
  description: "run a grounding model (ONNX) over a Flickr30k Entities split: eval flickr30k's predictions, --eval for recall@k",
  options: {
    flickrDir: option.required("--flickr-dir <dir>", "the dataset as distributed: {train,val,test}.txt, Annotations/, Sentences/", { role: "input" }),
    split: option.choice("--split <split>", "test, val or train", ["test", "val", "train"], "test"),
    ...benchmarkOptions("the pictures (<id>.jpg)", "sentences per model run", 1),
    out: option.required("-o, --out <file>", "the predictions", { role: "output" }),
    resume: option.flag("--resume", "continue an interrupted run (its progress is kept in OUT.progress.jsonl)", { role: "behaviour" }),
    merged: option.flag("--merged", "--eval: merged-box protocol"),
    iouThreshold: option.number("--iou-threshold <t>", "--eval: a box matches at IoU >= t", { default: 0.5, min: 0, max: 1 }),
    k: option.ranks("--k <list>", "--eval: ranks to report", "1,5,10"),
  },
  help: HELP,
  async run(options, _args, context) {
    const { tokenizer, shard } = prepareBenchmarkRun(options, context, "eval flickr30k");
    // Loads sharp, onnxruntime and the tokenizer only when this command runs.
    const { inferFlickr30k } = await import("../../inference/infer-flickr30k.js");
    const report = await inferFlickr30k({ ...options, tokenizer, shard, verbose: context.verbose }, context);
    context.log.info(`${report.sentences} sentences (${report.phrases} scored phrases) on ${report.pictures} pictures, ${report.device}: ${options.out}`);
    const settings = { scoring: report.scoring, shard: options.shard ?? null };
    const inferred = `MDETR's PostProcessFlickr (boxes ranked by the max over each phrase's tokens), ${report.scoring} scoring`;
    if (!options.evaluate && context.jsonTarget === undefined) {
      return { table: "", json: { sentences: report.sentences, phrases: report.phrases, pictures: report.pictures }, protocol: inferred, settings, inputs: { tokenizer } };
    }
    const { evalFlickr30k } = await import("../../evaluation/flickr30k.js");
    const evaluation = await evalFlickr30k({ flickrDir: options.flickrDir, split: options.split, predictions: [options.out], merged: options.merged, iouThreshold: options.iouThreshold, k: options.k }, context);
    return { table: flickrTable(evaluation), json: flickrJson(evaluation), protocol: `${inferred}; recall@k${options.merged ? ", merged boxes" : ""}`, settings, inputs: { tokenizer } };
  },
});
