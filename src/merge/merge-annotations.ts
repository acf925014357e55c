/**
 * `merge-annotations` as a function: read the grounding files, colour each image's captions and
 * write MDETR's final_mixed_train.json layout, as scripts/pre-training/combine_datasets_train.py.
 */
import { UsageError } from "../core/errors.js";
import { readWholeInput, type InputLog } from "../core/inputs.js";
import { stopwatch } from "../core/log.js";
import { GroundingCorpus, parseExcludeList } from "../formats/grounding/corpus.js";
import { writeMixedDataset } from "../formats/grounding/mixed-writer.js";
import type { RunContext } from "../json/run-context.js";
import type { ColouringOptions } from "./colouring.js";
import { emptyMergeStats, mergeImages, type MergeStats } from "./merge-images.js";

export interface MergeAnnotationsOptions extends ColouringOptions {
  inputs: string[];
  output: string;
  exclude: string | undefined;
}

export interface MergeAnnotationsReport {
  stats: MergeStats;
  excluded: { images: number; datapoints: number };
  options: ColouringOptions;
}

export async function mergeAnnotations(options: MergeAnnotationsOptions, { log, read, progress: progressBar }: RunContext): Promise<MergeAnnotationsReport> {
  const clock = stopwatch();
  const exclude = options.exclude === undefined ? new Set<string>() : await readExcludeList(options.exclude, read.inputs);
  const corpus = new GroundingCorpus(exclude);
  for (const input of options.inputs) {
    await corpus.addFile(input, read);
    log.debug(`${input}: read, ${corpus.datapointCount} datapoints so far (${clock.lap()})`);
  }
  const { sizeConflicts } = corpus;
  if (sizeConflicts.count > 0) {
    log.warn(`${sizeConflicts.count} images have datapoints with different sizes (${sizeConflicts.example}); the first size was kept`);
  }
  const stats = emptyMergeStats();
  const progress = progressBar("merging", corpus.groups.length);
  try {
    await writeMixedDataset(options.output, corpus, mergeImages(corpus, options, stats, () => progress.tick()));
  } finally {
    progress.stop();
  }
  log.debug(`merged and wrote ${options.output} (${clock.lap()})`);
  return { stats, excluded: { images: corpus.excluded.images.size, datapoints: corpus.excluded.datapoints }, options };
}

async function readExcludeList(file: string, inputs: InputLog): Promise<Set<string>> {
  const { bytes } = await readWholeInput(file, inputs, (reason) => new UsageError(`${file}: cannot read: ${reason}`));
  return parseExcludeList(file, bytes.toString("utf8"));
}
