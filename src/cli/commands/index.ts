/**
 * The one registry of commands: the CLI builds its program from this list, in this order. Each
 * definition loads when it is needed: a run loads only its own command's (all of them load for
 * help, a typo, or a word that is no command), which spares every run 20 ms of module loading.
 */
import type { CommandDefinition } from "../define.js";

export interface CommandEntry {
  /** The words that run it (the definition's own `path`, checked when it loads). */
  path: readonly string[];
  load: () => Promise<CommandDefinition>;
}

export const COMMANDS: readonly CommandEntry[] = [
  { path: ["eval", "refcoco"], load: async () => (await import("./eval-refcoco.js")).evalRefcocoCommand },
  { path: ["eval", "lvis"], load: async () => (await import("./eval-lvis.js")).evalLvisCommand },
  { path: ["eval", "flickr30k"], load: async () => (await import("./eval-flickr30k.js")).evalFlickr30kCommand },
  { path: ["merge-annotations"], load: async () => (await import("./merge-annotations.js")).mergeAnnotationsCommand },
  { path: ["infer", "dir"], load: async () => (await import("./infer-dir.js")).inferDirCommand },
  { path: ["infer", "refcoco"], load: async () => (await import("./infer-refcoco.js")).inferRefcocoCommand },
  { path: ["infer", "flickr30k"], load: async () => (await import("./infer-flickr30k.js")).inferFlickr30kCommand },
  { path: ["infer", "lvis"], load: async () => (await import("./infer-lvis.js")).inferLvisCommand },
  { path: ["convert", "lvis"], load: async () => (await import("./convert-lvis.js")).convertLvisCommand },
];

/**
 * The command `args` run, when they name one and ask for no help: its entry; otherwise undefined
 * (every command is then loaded). Options before the command words (`--verbose`) are passed over.
 */
export function commandOf(args: readonly string[]): CommandEntry | undefined {
  if (args.includes("--help") || args.includes("-h")) return undefined;
  let start = 0;
  while (start < args.length && args[start]!.startsWith("-")) start++;
  return COMMANDS.find((entry) => entry.path.every((word, i) => args[start + i] === word));
}

/** The definitions of `entries`, each checked against the path it is registered under. */
export async function loadCommands(entries: readonly CommandEntry[]): Promise<CommandDefinition[]> {
  return Promise.all(
    entries.map(async (entry) => {
      const definition = await entry.load();
      if (definition.path.join(" ") !== entry.path.join(" ")) throw new Error(`the command registered as "${entry.path.join(" ")}" defines "${definition.path.join(" ")}"`);
      return definition;
    }),
  );
}

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
