/** `mdetr infer dir`: an exported grounding model over a folder of images. */
import { existsSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { UsageError } from "../../core/errors.js";
import { defineCommand, option } from "../define.js";
import { parseImageThreads } from "../options.js";

const HELP = `
Model contract (see README): inputs pixel_values [B,3,H,W], pixel_mask [B,H,W] (optional), input_ids
and attention_mask [B,L] (token_type_ids optional); outputs pred_boxes [B,Q,4] (cx, cy, w, h relative)
and pred_logits (MDETR: --scoring mdetr) or logits (Grounding DINO: --scoring sigmoid).

Output: --out FILE writes one JSON line per image as it goes ('-' for stdout);
{"file", "width", "height", "text", "detections": [{"bbox": [x1,y1,x2,y2], "score", "spans", "phrase"}]}
An unreadable image is a line {"file", "error"}: reported, skipped, exit 0 (unless --strict).
The first line is {"header": {"tool", "version", "command", "settings"}}: the model and tokenizer
(path, sha256), the prompt, thresholds, scoring and image preprocessing; --resume continues only a
file whose settings are this run's, and names the ones that differ.

Examples:
  $ mdetr infer dir photos/ --model mdetr.onnx --text "a cat lying next to a remote control" --out preds.jsonl
  $ mdetr infer dir photos/ --model gdino.onnx --phrases "cat,remote control" --draw drawn/ --coco results.json
  $ mdetr infer dir photos/ --model mdetr.onnx --queries queries.csv --out preds.jsonl --resume
`;

export const inferDirCommand = defineCommand({
  path: ["infer", "dir"],
  description: "run an exported grounding model (ONNX) over a folder of images with text prompts",
  arguments: { name: "<images>", description: "folder of images (jpg, jpeg, png, webp, bmp, tif, tiff)", role: "setting" },
  options: {
    model: option.required("--model <file>", "the exported model (.onnx)", { role: "input" }),
    tokenizer: option.optional("--tokenizer <file>", "Hugging Face tokenizer.json (default: next to the model)", { role: "input" }),
    text: option.optional("--text <prompt>", "one prompt for every image"),
    phrases: option.phrases("--phrases <list>", "comma-separated phrases, prompted GLIP-style ('cat. remote control.')"),
    queries: option.optional("--queries <csv>", "per-image prompts: a CSV with header image,text (image may be a glob)", { role: "input" }),
    device: option.choice("--device <device>", "auto, cuda, webgpu or cpu", ["auto", "cuda", "webgpu", "cpu"], "auto", { role: "behaviour" }),
    // Padding is masked, so the batch size changes no number: not in meta, as not in the header.
    batchSize: option.number("--batch-size <n>", "images per model run", { default: 1, min: 1, max: 4096, integer: true, role: "behaviour" }),
    // The same pixels whoever computes them: not in meta, as not in the header.
    imageThreads: option.parsed("--image-threads <n>", "threads that decode and resize images beside the model: a number (0: none, the main thread does it), or auto (the cores but one, if that is at least 2); no effect on the numbers", "auto", parseImageThreads, { role: "behaviour" }),
    threshold: option.number("--threshold <t>", "keep boxes scoring at least t", { default: 0.7, min: 0, max: 1 }),
    tokenThreshold: option.number("--token-threshold <t>", "tokens of a kept box with probability at least t give its spans", { default: 0.1, min: 0, max: 1 }),
    scoring: option.optionalChoice("--scoring <rule>", "mdetr or sigmoid (default: from the model's logits output name)", ["mdetr", "sigmoid"]),
    out: option.optional("--out <file>", "JSONL predictions, one line per image ('-' for stdout)", { role: "output" }),
    coco: option.optional("--coco <file>", "also write a COCO results list (and FILE.images.json with the image ids)", { role: "output" }),
    draw: option.optional("--draw <folder>", "write each image with its boxes, phrases and scores drawn", { role: "behaviour" }),
    resume: option.flag("--resume", "skip images already in --out", { role: "behaviour" }),
    recursive: option.flag("--recursive", "look for images in subfolders too"),
    strict: option.flag("--strict", "stop at the first unreadable image (exit 2)", { role: "behaviour" }),
  },
  help: HELP,
  async run(options, [root], context) {
    if (root === undefined || !existsSync(root) || !statSync(root).isDirectory()) throw new UsageError(`${root}: not a folder`);
    const given = (["text", "phrases", "queries"] as const).filter((k) => options[k] !== undefined);
    if (given.length !== 1) throw new UsageError("give exactly one of --text, --phrases, --queries");
    const tokenizer = options.tokenizer ?? join(dirname(options.model), "tokenizer.json");
    if (!existsSync(tokenizer)) throw new UsageError(`${options.tokenizer === undefined ? "no tokenizer.json next to the model" : "--tokenizer"}: ${tokenizer} does not exist`);
    const { out, coco, draw } = options;
    if (options.resume && (out === undefined || out === "-")) throw new UsageError("--resume needs --out FILE");
    if (out === "-" && context.jsonTarget === "-") throw new UsageError("--out - and --json - both write to stdout; give one of them a file name");
    if (coco === "-") throw new UsageError("--coco needs a file name (the results and their images mapping are two files)");
    if (coco !== undefined && out !== undefined && resolve(coco) === resolve(out)) throw new UsageError("--coco and --out name the same file");
    if (draw !== undefined) {
      if (resolve(draw) === resolve(root)) throw new UsageError("--draw: give another folder than the images' own (drawings would replace the images)");
      if (existsSync(draw) && !statSync(draw).isDirectory()) throw new UsageError(`--draw ${draw}: exists and is not a folder`);
    }
    const { text, phrases, queries } = options;
    const prompt = text !== undefined ? { text } : phrases !== undefined ? { phrases } : { queries: queries! };
    if (text !== undefined && !text.trim()) throw new UsageError("--text: the prompt is empty");
    // The implementation loads sharp, onnxruntime and the tokenizer: only when this command runs.
    const { inferDir, inferSummary } = await import("../../inference/infer-dir.js");
    // With --json -, stdout holds the JSON alone: no line per image.
    const quiet = context.jsonTarget === "-";
    const report = await inferDir({ ...options, root, tokenizer, prompt, verbose: context.verbose, version: context.version, quiet }, context);
    context.log.info(inferSummary(report));
    return {
      table: "",
      json: { images: report.images, resumed: report.resumed, detections: report.detections, unreadable: report.unreadable, device: report.device },
      protocol: `MDETR's PostProcess (boxes scaled to the original image), ${report.scoring} scoring`,
      settings: { scoring: report.scoring },
      inputs: { tokenizer },
    };
  },
});
