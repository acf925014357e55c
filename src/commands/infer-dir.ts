/** `mdetr infer dir`: an exported grounding model over a folder of images. */
import { existsSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { Command } from "commander";
import { UsageError } from "../errors.js";
import { checkOutputTarget } from "../util/emit.js";
import type { CommandContext } from "./context.js";
import { parseChoice, parseNumberIn, parsePhraseList, parseWholeNumber } from "./option-parsers.js";

const HELP = `
Model contract (see README): inputs pixel_values [B,3,H,W], pixel_mask [B,H,W] (optional), input_ids
and attention_mask [B,L] (token_type_ids optional); outputs pred_boxes [B,Q,4] (cx, cy, w, h relative)
and pred_logits (MDETR: --scoring mdetr) or logits (Grounding DINO: --scoring sigmoid).

Output: --out FILE writes one JSON line per image as it goes ('-' for stdout);
{"file", "width", "height", "text", "detections": [{"bbox": [x1,y1,x2,y2], "score", "spans", "phrase"}]}
An unreadable image is a line {"file", "error"}: reported, skipped, exit 0 (unless --strict).

Examples:
  $ mdetr infer dir photos/ --model mdetr.onnx --text "a cat lying next to a remote control" --out preds.jsonl
  $ mdetr infer dir photos/ --model gdino.onnx --phrases "cat,remote control" --draw drawn/ --coco results.json
  $ mdetr infer dir photos/ --model mdetr.onnx --queries queries.csv --out preds.jsonl --resume
`;

export function registerInferDir(program: Command, context: CommandContext): void {
  const infer = program.command("infer").description("run an exported grounding model").addHelpText("after", "\nExamples:\n  $ mdetr infer dir photos/ --model model.onnx --text \"a cat\" --out preds.jsonl\n");
  infer
    .command("dir")
    .description("run an exported grounding model (ONNX) over a folder of images with text prompts")
    .argument("<images>", "folder of images (jpg, jpeg, png, webp, bmp, tif, tiff)")
    .requiredOption("--model <file>", "the exported model (.onnx)")
    .option("--tokenizer <file>", "Hugging Face tokenizer.json (default: next to the model)")
    .option("--text <prompt>", "one prompt for every image")
    .option("--phrases <list>", "comma-separated phrases, prompted GLIP-style ('cat. remote control.')")
    .option("--queries <csv>", "per-image prompts: a CSV with header image,text (image may be a glob)")
    .option("--device <device>", "auto, cuda, webgpu or cpu", "auto")
    .option("--batch-size <n>", "images per model run", "1")
    .option("--threshold <t>", "keep boxes scoring at least t", "0.7")
    .option("--token-threshold <t>", "tokens of a kept box with probability at least t give its spans", "0.1")
    .option("--scoring <rule>", "mdetr or sigmoid (default: from the model's logits output name)")
    .option("--out <file>", "JSONL predictions, one line per image ('-' for stdout)")
    .option("--coco <file>", "also write a COCO results list (and FILE.images.json with the image ids)")
    .option("--draw <folder>", "write each image with its boxes, phrases and scores drawn")
    .option("--resume", "skip images already in --out")
    .option("--recursive", "look for images in subfolders too")
    .option("--strict", "stop at the first unreadable image (exit 2)")
    .addHelpText("after", HELP)
    .action(async (root: string, raw: Record<string, string | boolean | undefined>) => {
      if (!existsSync(root) || !statSync(root).isDirectory()) throw new UsageError(`${root}: not a folder`);
      const given = (["text", "phrases", "queries"] as const).filter((k) => raw[k] !== undefined);
      if (given.length !== 1) throw new UsageError("give exactly one of --text, --phrases, --queries");
      const model = String(raw["model"]);
      const tokenizer = raw["tokenizer"] === undefined ? join(dirname(model), "tokenizer.json") : String(raw["tokenizer"]);
      if (!existsSync(tokenizer)) throw new UsageError(`${raw["tokenizer"] === undefined ? "no tokenizer.json next to the model" : "--tokenizer"}: ${tokenizer} does not exist`);
      const out = raw["out"] as string | undefined;
      if (raw["resume"] && (out === undefined || out === "-")) throw new UsageError("--resume needs --out FILE");
      const coco = raw["coco"] as string | undefined;
      const draw = raw["draw"] as string | undefined;
      if (coco === "-") throw new UsageError("--coco needs a file name (the results and their images mapping are two files)");
      if (coco !== undefined && out !== undefined && resolve(coco) === resolve(out)) throw new UsageError("--coco and --out name the same file");
      for (const [option, target] of [["--out", out], ["--coco", coco]] as const) await checkOutputTarget(option, target);
      if (draw !== undefined) {
        if (resolve(draw) === resolve(root)) throw new UsageError("--draw: give another folder than the images' own (drawings would replace the images)");
        if (existsSync(draw) && !statSync(draw).isDirectory()) throw new UsageError(`--draw ${draw}: exists and is not a folder`);
      }
      const batchSize = parseWholeNumber("--batch-size", String(raw["batchSize"]), 1, 4096);
      const prompt = given[0] === "text" ? { text: String(raw["text"]) } : given[0] === "phrases" ? { phrases: parsePhraseList("--phrases", String(raw["phrases"])) } : { queries: String(raw["queries"]) };
      if ("text" in prompt && !prompt.text?.trim()) throw new UsageError("--text: the prompt is empty");
      const log = context.log();
      // The implementation loads sharp, onnxruntime and the tokenizer: only when this command runs.
      const { inferDir, inferSummary } = await import("../inference/infer-dir.js");
      const report = await inferDir(
        {
          root,
          model,
          tokenizer,
          prompt,
          device: parseChoice("--device", String(raw["device"]), ["auto", "cuda", "webgpu", "cpu"] as const),
          batchSize,
          threshold: parseNumberIn("--threshold", String(raw["threshold"]), 0, 1),
          tokenThreshold: parseNumberIn("--token-threshold", String(raw["tokenThreshold"]), 0, 1),
          scoring: raw["scoring"] === undefined ? undefined : parseChoice("--scoring", String(raw["scoring"]), ["mdetr", "sigmoid"] as const),
          out,
          coco: raw["coco"] as string | undefined,
          draw: raw["draw"] as string | undefined,
          resume: raw["resume"] === true,
          recursive: raw["recursive"] === true,
          strict: raw["strict"] === true,
          verbose: context.verbose(),
        },
        log,
      );
      log.info(inferSummary(report));
    });
}
