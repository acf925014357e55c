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
  const byImage = bucketSort(image, imageCount, rows).order;
  return bucketSort(category, categoryCount, byImage);
}

/**
 * A stable counting sort of `rows` (every index of `key` when not given) by key[row]: bucket b's
 * rows are order[start[b] .. start[b + 1]), in the order given. Indexed loops: this runs once per
 * detection, before anything is optimised.
 */
export function bucketSort(key: Int32Array, buckets: number, rows?: Int32Array): CategoryRows {
  const n = rows ? rows.length : key.length;
  const start = new Int32Array(buckets + 1);
  for (let i = 0; i < n; i++) start[key[rows ? rows[i]! : i]! + 1]!++;
  for (let b = 0; b < buckets; b++) start[b + 1]! += start[b]!;
  const next = start.slice(0, buckets);
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const row = rows ? rows[i]! : i;
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
