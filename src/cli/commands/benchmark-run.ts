/** What `infer refcoco | flickr30k | lvis` share: the model options, and the checks before a run. */
import { existsSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { UsageError } from "../../core/errors.js";
import type { CommandContext } from "../define.js";
import { option } from "../define.js";
import { parseShard } from "../options.js";

/** The options of a model over a benchmark (the model contract of infer dir). */
export function benchmarkOptions(picturesHelp: string, batchHelp: string, batchDefault: number) {
  return {
    images: option.required("--images <folder>", picturesHelp),
    model: option.required("--model <file>", "the exported model (.onnx)", { role: "input" }),
    tokenizer: option.optional("--tokenizer <file>", "Hugging Face tokenizer.json (default: next to the model)", { role: "input" }),
    scoring: option.optionalChoice("--scoring <rule>", "mdetr or sigmoid (default: from the model's logits output name)", ["mdetr", "sigmoid"]),
    device: option.choice("--device <device>", "auto, cuda, webgpu or cpu", ["auto", "cuda", "webgpu", "cpu"], "auto", { role: "behaviour" }),
    batchSize: option.number("--batch-size <n>", batchHelp, { default: batchDefault, min: 1, max: 4096, integer: true }),
    shard: option.optional("--shard <K/N>", "run the K-th of N blocks of the pictures (K from 1)"),
    evaluate: option.flag("--eval", "score the predictions in-process, as the eval command does"),
  };
}

/**
 * The checks before any work: the pictures folder, the tokenizer (next to the model by default),
 * the shard, and that --eval is not asked of one shard.
 */
export function prepareBenchmarkRun(
  options: { images: string; model: string; tokenizer: string | undefined; shard: string | undefined; evaluate: boolean },
  context: CommandContext,
  evalCommand: string,
): { tokenizer: string; shard: { index: number; count: number } | undefined } {
  if (!existsSync(options.images) || !statSync(options.images).isDirectory()) throw new UsageError(`--images ${options.images}: not a folder`);
  const tokenizer = options.tokenizer ?? join(dirname(options.model), "tokenizer.json");
  if (!existsSync(tokenizer)) throw new UsageError(`${options.tokenizer === undefined ? "no tokenizer.json next to the model" : "--tokenizer"}: ${tokenizer} does not exist`);
  const shard = options.shard === undefined ? undefined : parseShard("--shard", options.shard);
  if (shard && (options.evaluate || context.jsonTarget !== undefined)) {
    throw new UsageError(`--eval scores a whole benchmark, not one shard: run ${evalCommand} --predictions on all the shards' files instead`);
  }
  return { tokenizer, shard };
}
