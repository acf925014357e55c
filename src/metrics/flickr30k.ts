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
  let best = -Infinity;
  const n = Math.min(limit, predicted.length / 4);
  for (let i = 0; i < n; i++) {
    const x1 = predicted[4 * i]!, y1 = predicted[4 * i + 1]!, x2 = predicted[4 * i + 2]!, y2 = predicted[4 * i + 3]!;
    const area1 = (x2 - x1) * (y2 - y1);
    for (const [gx1, gy1, gx2, gy2] of groundTruth) {
      const w = Math.max(Math.min(x2, gx2) - Math.max(x1, gx1), 0);
      const h = Math.max(Math.min(y2, gy2) - Math.max(y1, gy1), 0);
      const inter = w * h;
      const iou = inter / (area1 + (gx2 - gx1) * (gy2 - gy1) - inter);
      if (Number.isNaN(iou)) return NaN;
      if (iou > best) best = iou;
    }
  }
  return best;
}

export function flickrRecall(phrases: readonly PhraseToScore[], ks: readonly number[], iouThreshold: number): FlickrRecall {
  const limits = [...ks, Infinity];
  const hits = limits.map(() => new Map<string, number>());
  const totals = new Map<string, number>();
  const count = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);
  for (const { types, predicted, groundTruth } of phrases) {
    const categories = ["all", ...types];
    for (const category of categories) count(totals, category);
    limits.forEach((limit, i) => {
      if (bestIou(predicted, groundTruth, limit) >= iouThreshold) for (const category of categories) count(hits[i]!, category);
    });
  }
  const recall = (i: number) => new Map([...totals.keys()].sort().map((category) => [category, (hits[i]!.get(category) ?? 0) / totals.get(category)!]));
  return { recallAt: ks.map((k, i) => ({ k, byType: recall(i) })), upperBound: recall(ks.length) };
}
