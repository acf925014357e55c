/**
 * The orders LVISEval works in, as flat index lists instead of its per (image, category) dicts:
 * rows grouped by category, inside a category by image index ascending (params.img_ids order),
 * inside an image in file order (get_ann_ids walks img_ann_map, which holds an image's rows in
 * file order) or, for detections, ranked as evaluate_img ranks them.
 */

/** `order[start[c] .. start[c + 1])`: category c's rows. */
export interface CategoryRows {
  start: Int32Array;
  order: Int32Array;
}

/** Two stable counting sorts, by image then by category: (category, image, file order). */
export function arrangeByCategory(rows: Int32Array, category: Int32Array, image: Int32Array, imageCount: number, categoryCount: number): CategoryRows {
  const byImage = stableBucketSort(rows, image, imageCount).order;
  return stableBucketSort(byImage, category, categoryCount);
}

function stableBucketSort(rows: Int32Array, key: Int32Array, buckets: number): CategoryRows {
  const start = new Int32Array(buckets + 1);
  for (let i = 0; i < rows.length; i++) start[key[rows[i]!]! + 1]!++;
  for (let b = 0; b < buckets; b++) start[b + 1]! += start[b]!;
  const next = start.slice(0, buckets);
  const order = new Int32Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    order[next[key[row]!]!++] = row;
  }
  return { start, order };
}

/** Runs up to this long are ranked by insertion; longer ones by a sort. */
const INSERTION_RUN = 16;

/**
 * Ranks each (category, image) run of `rows` (arranged by arrangeByCategory) by score, best first,
 * equal scores in file order: evaluate_img's np.argsort(-scores, kind="mergesort"), a stable sort.
 */
export function rankWithinImages(rows: CategoryRows, image: Int32Array, score: Float64Array): void {
  const { start, order } = rows;
  for (let c = 0; c + 1 < start.length; c++) {
    const end = start[c + 1]!;
    for (let from = start[c]!; from < end; ) {
      const img = image[order[from]!]!;
      let to = from + 1;
      while (to < end && image[order[to]!] === img) to++;
      if (to - from <= INSERTION_RUN) {
        // Insertion that moves a row only past strictly lower scores: stable.
        for (let i = from + 1; i < to; i++) {
          const row = order[i]!;
          const s = score[row]!;
          let j = i;
          while (j > from && score[order[j - 1]!]! < s) {
            order[j] = order[j - 1]!;
            j--;
          }
          order[j] = row;
        }
      } else {
        const ranked = Array.from(order.subarray(from, to)).sort((x, y) => score[y]! - score[x]! || x - y);
        order.set(ranked, from);
      }
      from = to;
    }
  }
}
