/**
 * The whole merge over a corpus: colour each image's datapoints and combine each colour, yielding
 * the combined datapoints in the reference's output order (coco images first, then vg, each in
 * order of first appearance) together with the statistics `--stats` reports.
 */
import type { GroundingCorpus, ImageGroup } from "../formats/grounding/corpus.js";
import { colourGreedily, overlapGraph, type ColouringNode, type ColouringOptions } from "./colouring.js";
import { combineMembers, type CombinedText } from "./combine.js";
import { codePointLength } from "../compat/python.js";

export interface CombinedDatapoint extends CombinedText {
  image: ImageGroup;
  /** Annotation indices (into the corpus) of the members, member by member, matching tokensPositive. */
  annotations: Uint32Array[];
}

export interface MergeStats {
  images: number;
  datapointsIn: number;
  datapointsOut: number;
  /** captionsPerDatapoint[k] = combined datapoints made of k captions. */
  captionsPerDatapoint: number[];
  /** datapointsPerImage[k] = images that became k combined datapoints (colours). */
  datapointsPerImage: number[];
  /** Input datapoints that ended up alone in their combined datapoint. */
  uncombined: number;
}

function bump(histogram: number[], k: number): void {
  while (histogram.length <= k) histogram.push(0);
  histogram[k]!++;
}

function nodeOf(corpus: GroundingCorpus, bbox: Float64Array, datapoint: number, annotations: Uint32Array): ColouringNode {
  const boxes = new Float32Array(4 * annotations.length);
  annotations.forEach((a, i) => {
    const [x, y, w, h] = [bbox[4 * a]!, bbox[4 * a + 1]!, bbox[4 * a + 2]!, bbox[4 * a + 3]!];
    // The script's giou_friendly_bbox [x, y, x + w, y + h], stacked into a float32 tensor.
    boxes.set([x, y, x + w, y + h], 4 * i);
  });
  const caption = corpus.captions[datapoint]!;
  return { boxes, captionLength: codePointLength(caption), endsSentence: caption.endsWith(".") || caption.endsWith("?") };
}

export function* mergeImages(corpus: GroundingCorpus, options: ColouringOptions, stats: MergeStats, onImageDone: () => void = () => {}): Generator<CombinedDatapoint> {
  const ordered = [...corpus.groups.filter((g) => g.dataSource === "coco"), ...corpus.groups.filter((g) => g.dataSource === "vg")];
  stats.images = ordered.length;
  stats.datapointsIn = corpus.datapointCount;
  const bbox = corpus.bbox.view();
  for (const image of ordered) {
    const annotationsOf = image.datapoints.map((d) => corpus.annotationsOf(d));
    const nodes = image.datapoints.map((d, i) => nodeOf(corpus, bbox, d, annotationsOf[i]!));
    const colours = colourGreedily(nodes, overlapGraph(nodes, options), options);
    bump(stats.datapointsPerImage, colours.length);
    for (const members of colours) {
      const datapoints = members.map((node) => image.datapoints[node]!);
      const annotations = members.map((node) => annotationsOf[node]!);
      const text = combineMembers(
        datapoints.map((d, i) => ({
          caption: corpus.captions[d]!,
          tokensNegative: corpus.tokensNegative[d]!,
          annotationSpans: [...annotations[i]!].map((a) => corpus.tokensPositive[a]!),
        })),
      );
      stats.datapointsOut++;
      bump(stats.captionsPerDatapoint, members.length);
      if (members.length === 1) stats.uncombined++;
      yield { ...text, image, annotations };
    }
    onImageDone();
  }
}

export function emptyMergeStats(): MergeStats {
  return { images: 0, datapointsIn: 0, datapointsOut: 0, captionsPerDatapoint: [], datapointsPerImage: [], uncombined: 0 };
}
