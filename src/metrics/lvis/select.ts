/**
 * Which detections take part, in lvis-api's order of operations:
 * 1. the cap: standard AP keeps each image's 300 best (LVISResults.limit_dets_per_image); fixed AP
 *    keeps each category's 10,000 best over the whole set (MDETR's LvisEvaluatorFixedAP). Both
 *    sort stably by score, so equal scores keep file order, and both come before step 2;
 * 2. the filters of LVISEval._prepare: get_ann_ids keeps only detections with 0 < area < inf, and a
 *    detection counts only for a category that the image has in its ground truth or in its
 *    neg_category_ids.
 */
import { bucketSort } from "./arrange.js";
import { kthHighest } from "./keep.js";
import type { DetectionColumns } from "./columns.js";

/**
 * Marks the best `limit` detections (by score, ties in file order) of every group: the set a
 * stable sort by score would put first. Only the set matters, so a group over the limit is not
 * sorted: its limit-th best score (kthHighest, a quickselect) splits it, every detection
 * above it is kept, and of those equal to it the first ones in file order, up to the limit.
 */
export function keepBestPerGroup(keys: Int32Array, buckets: number, score: Float64Array, limit: number, keep: Uint8Array): void {
  if (limit <= 0) return;
  const { start, order } = bucketSort(keys, buckets);
  for (let b = 0; b < buckets; b++) {
    const members = order.subarray(start[b]!, start[b + 1]!);
    if (members.length <= limit) {
      for (let i = 0; i < members.length; i++) keep[members[i]!] = 1;
      continue;
    }
    const cut = kthHighest(Float64Array.from(members, (d) => score[d]!), limit);
    let kept = 0;
    for (let i = 0; i < members.length; i++) {
      const d = members[i]!;
      if (score[d]! > cut) {
        keep[d] = 1;
        kept++;
      }
    }
    for (let i = 0; i < members.length && kept < limit; i++) {
      const d = members[i]!;
      if (score[d] === cut) {
        keep[d] = 1;
        kept++;
      }
    }
  }
}

/**
 * A set of (image, category) pairs as bits: the category filter asks it for every detection, which
 * a Set of numbers made a good part of a 10 M-detection evaluation.
 */
export class ImageCategoryPairs {
  private readonly bits: Uint32Array;

  constructor(private readonly categoryCount: number, imageCount: number) {
    this.bits = new Uint32Array(Math.ceil((imageCount * categoryCount) / 32));
  }

  add(image: number, category: number): void {
    const key = image * this.categoryCount + category;
    this.bits[Math.floor(key / 32)]! |= 1 << key % 32;
  }

  has(image: number, category: number): boolean {
    const key = image * this.categoryCount + category;
    return ((this.bits[Math.floor(key / 32)]! >>> key % 32) & 1) === 1;
  }
}

export interface Selection {
  protocol: "standard" | "fixed";
  maxDets: number;
  detsPerCategory: number;
}

/** Detection indices that take part, in file order. */
export function selectDetections(
  dets: DetectionColumns,
  images: number,
  categories: number,
  isPositiveOrNegative: (image: number, category: number) => boolean,
  selection: Selection,
): Int32Array {
  const n = dets.score.length;
  const keep = new Uint8Array(n);
  if (selection.protocol === "standard") {
    if (selection.maxDets >= 0) keepBestPerGroup(dets.image, images, dets.score, selection.maxDets, keep);
    else keep.fill(1);
  } else keepBestPerGroup(dets.category, categories, dets.score, selection.detsPerCategory, keep);
  let count = 0;
  for (let d = 0; d < n; d++) {
    if (!keep[d]) continue;
    const area = dets.area[d]!;
    if (area > 0 && area < Infinity && isPositiveOrNegative(dets.image[d]!, dets.category[d]!)) keep[d] = 2;
    if (keep[d] === 2) count++;
  }
  // Counted first, so the list is allocated once at its size.
  const selected = new Int32Array(count);
  for (let d = 0, k = 0; d < n; d++) if (keep[d] === 2) selected[k++] = d;
  return selected;
}
