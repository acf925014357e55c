/**
 * Phrase-grounding recall@k on Flickr30k Entities, as MDETR's Flickr30kEntitiesRecallEvaluator
 * (datasets/flickr_eval.py): a phrase is a hit at k when one of its k best boxes has IoU >= the
 * threshold with one of its entity's ground-truth boxes; the upper bound uses all its boxes.
 * Counted for "all" and for each of the phrase's types. Pure: data in, numbers out.
 */
/** [x1, y1, x2, y2]. */
export type Box = readonly [number, number, number, number];

/** One evaluated phrase: its types, its ranked predicted boxes (4 numbers each), its entity's boxes. */
export interface PhraseToScore {
  /** Coarse types (people, clothing, ...); a phrase may have several, and counts in each. */
  types: readonly string[];
  predicted: Float64Array;
  groundTruth: readonly Box[];
}

export interface FlickrRecall {
  /** recallAt[i] is for k = ks[i]; each maps "all" and every phrase type seen to a recall. */
  recallAt: { k: number; byType: Map<string, number> }[];
  upperBound: Map<string, number>;
}

/**
 * The best IoU among the first `limit` predicted boxes, as numpy computes `box_iou(...)[:k].max()`
 * in float64: a NaN (two zero-area boxes: 0 / 0) propagates through max() and is never a hit.
 */
export function bestIou(predicted: Float64Array, groundTruth: readonly Box[], limit: number): number {
  const best = new Float64Array(1);
  bestIous(predicted, groundTruth, [limit], [0], best);
  return best[0]!;
}

/**
 * bestIou at every limit in one pass over the boxes: the reference's `ious[:k].max()` for each k
 * is a running maximum of the same IoU matrix, so the first k rows are computed once for all the
 * k's. `order` lists the limits' indices by increasing limit; `out[j]` gets limit j's best.
 */
function bestIous(predicted: Float64Array, groundTruth: readonly Box[], limits: readonly number[], order: readonly number[], out: Float64Array): void {
  const n = predicted.length >> 2;
  const m = groundTruth.length;
  let best = -Infinity;
  let i = 0;
  for (const j of order) {
    const stop = Math.min(limits[j]!, n);
    // (best !== best: a NaN was met, and max() keeps it for every longer prefix.)
    for (; i < stop && best === best; i++) {
      const x1 = predicted[4 * i]!, y1 = predicted[4 * i + 1]!, x2 = predicted[4 * i + 2]!, y2 = predicted[4 * i + 3]!;
      // box_area, then _box_inter_union's lt / rb / clip(min=0) and union = area1 + area2 - inter.
      const area1 = (x2 - x1) * (y2 - y1);
      for (let g = 0; g < m; g++) {
        const box = groundTruth[g]!;
        const gx1 = box[0], gy1 = box[1], gx2 = box[2], gy2 = box[3];
        const w = Math.max(Math.min(x2, gx2) - Math.max(x1, gx1), 0);
        const h = Math.max(Math.min(y2, gy2) - Math.max(y1, gy1), 0);
        const inter = w * h;
        const iou = inter / (area1 + (gx2 - gx1) * (gy2 - gy1) - inter);
        if (iou !== iou) {
          best = NaN;
          break;
        }
        if (iou > best) best = iou;
      }
    }
    out[j] = best;
  }
}

/** Per category ("all" and each type): how many phrases, and how many hits at each limit. */
interface Counts {
  total: number;
  hits: Int32Array;
}

/**
 * Recall@k counted one phrase at a time, so that a phrase's boxes can be scored as they are read
 * and then dropped (`add`), and the recalls computed at the end (`result`).
 */
export class FlickrRecallTally {
  private readonly limits: number[];
  private readonly order: number[];
  private readonly counts = new Map<string, Counts>();
  private readonly best: Float64Array;

  constructor(
    private readonly ks: readonly number[],
    private readonly iouThreshold: number,
  ) {
    this.limits = [...ks, Infinity];
    this.order = this.limits.map((_, j) => j).sort((a, b) => this.limits[a]! - this.limits[b]!);
    this.best = new Float64Array(this.limits.length);
  }

  private category(name: string): Counts {
    let found = this.counts.get(name);
    if (!found) this.counts.set(name, (found = { total: 0, hits: new Int32Array(this.limits.length) }));
    return found;
  }

  private count(counts: Counts): void {
    counts.total++;
    for (let j = 0; j < this.limits.length; j++) if (this.best[j]! >= this.iouThreshold) counts.hits[j]!++;
  }

  /** One phrase: its types, its ranked boxes (4 numbers each; not kept), its entity's boxes. */
  add(types: readonly string[], predicted: Float64Array, groundTruth: readonly Box[]): void {
    bestIous(predicted, groundTruth, this.limits, this.order, this.best);
    // Categories appear as phrases name them ("all" with the first), so no phrase gives none.
    this.count(this.category("all"));
    // A phrase counts once in each of its types (twice in a type it names twice, as the reference).
    for (const type of types) this.count(this.category(type));
  }

  result(): FlickrRecall {
    const categories = [...this.counts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const recall = (j: number) => new Map(categories.map(([category, counts]) => [category, counts.hits[j]! / counts.total]));
    return { recallAt: this.ks.map((k, j) => ({ k, byType: recall(j) })), upperBound: recall(this.ks.length) };
  }
}

export function flickrRecall(phrases: readonly PhraseToScore[], ks: readonly number[], iouThreshold: number): FlickrRecall {
  const tally = new FlickrRecallTally(ks, iouThreshold);
  for (const { types, predicted, groundTruth } of phrases) tally.add(types, predicted, groundTruth);
  return tally.result();
}
