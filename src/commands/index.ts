/** The one place that registers every command on the program. */
import type { Command } from "commander";
import type { CommandContext } from "./context.js";
import { registerEvalFlickr30k } from "./eval-flickr30k.js";
import { registerEvalLvis } from "./eval-lvis.js";
import { registerEvalRefcoco } from "./eval-refcoco.js";
import { registerInferDir } from "./infer-dir.js";
import { registerMergeAnnotations } from "./merge-annotations.js";

export function registerCommands(program: Command, context: CommandContext): void {
  const evalCommand = program
    .command("eval")
    .description("evaluate predictions on a grounding benchmark")
    .addHelpText(
      "after",
      "\nExamples:\n  $ mdetr eval refcoco --annotations finetune_refcoco_testA.json --predictions preds.json\n  $ mdetr eval lvis --annotations lvis_v1_minival.json --predictions dets.json\n",
    );
  registerEvalRefcoco(evalCommand, context);
  registerEvalLvis(evalCommand, context);
  registerEvalFlickr30k(evalCommand, context);
  registerMergeAnnotations(program, context);
  registerInferDir(program, context);
}
