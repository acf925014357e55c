/** The one registry of commands: the CLI builds its program from this list, in this order. */
import type { CommandDefinition } from "../define.js";
import { convertLvisCommand } from "./convert-lvis.js";
import { evalFlickr30kCommand } from "./eval-flickr30k.js";
import { evalLvisCommand } from "./eval-lvis.js";
import { evalRefcocoCommand } from "./eval-refcoco.js";
import { inferDirCommand } from "./infer-dir.js";
import { inferFlickr30kCommand } from "./infer-flickr30k.js";
import { inferLvisCommand } from "./infer-lvis.js";
import { inferRefcocoCommand } from "./infer-refcoco.js";
import { mergeAnnotationsCommand } from "./merge-annotations.js";

export const COMMANDS: readonly CommandDefinition[] = [evalRefcocoCommand, evalLvisCommand, evalFlickr30kCommand, mergeAnnotationsCommand, inferDirCommand, inferRefcocoCommand, inferFlickr30kCommand, inferLvisCommand, convertLvisCommand];

/** Commands with two words (`eval refcoco`) are grouped under the first; each group has its help. */
export const GROUPS: Readonly<Record<string, { description: string; help: string }>> = {
  eval: {
    description: "evaluate predictions on a grounding benchmark",
    help: "\nExamples:\n  $ mdetr eval refcoco --annotations finetune_refcoco_testA.json --predictions preds.json\n  $ mdetr eval lvis --annotations lvis_v1_minival.json --predictions dets.json\n  $ mdetr eval flickr30k --flickr-dir flickr30k_entities/ --split test --predictions preds.json\n",
  },
  convert: {
    description: "write training sets in the layouts MDETR's scripts produce",
    help: "\nExamples:\n  $ mdetr convert lvis --annotations lvis_v1_train.json --fraction 0.1 -o detection_lvis10_train.json\n",
  },
  infer: {
    description: "run an exported grounding model",
    help: '\nExamples:\n  $ mdetr infer dir photos/ --model model.onnx --text "a cat" --out preds.jsonl\n  $ mdetr infer refcoco --annotations finetune_refcoco_testA.json --images train2014/ --model model.onnx -o preds.json --eval\n  $ mdetr infer flickr30k --flickr-dir flickr30k_entities/ --split test --images flickr30k-images/ --model model.onnx -o preds.json --eval\n  $ mdetr infer lvis --annotations lvis_v1_minival.json --images coco/ --model model.onnx -o dets.json --eval\n',
  },
};
