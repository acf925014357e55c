/**
 * Precision@k for referring expressions, as MDETR's `RefExpEvaluator` (datasets/refexp.py) computes
 * it: rank an expression's boxes by score, and it is a hit at k when one of the top k overlaps the
 * target box by at least the threshold. P@k = hits / expressions, per dataset name.
 *
 * Instead of sorting, the rank of the best-ranked matching box is the number of boxes that sort
 * strictly before it, counted in one pass; only the top max(k) boxes are put in order, to be
 * scored best first (firstMatchRank). That equals the reference's sorted order
 * because it sorts (score, box) pairs in reverse, so ties in score fall back to comparing the boxes
 * coordinate by coordinate, and fully equal pairs are interchangeable.
 */
import { overlapFunction, type BoxOverlap } from "../compat/torch-box-ops.js";

export interface RefexpPrecisionInput {
  datasetNames: readonly string[];
  /** Per expression, an index into datasetNames. */
  datasetOf: Uint32Array;
  /** Per expression, the target [x1, y1, x2, y2]. */
  targetBoxes: Float64Array;
  /** Per expression, its boxes: boxes[4 * (start + i) ...], scores[start + i], i < count; scores are never NaN (the reader refuses them). */
  start: Uint32Array;
  count: Uint32Array;
  boxes: Float32Array;
  scores: Float32Array;
}

export interface RefexpPrecisionOptions {
  k: readonly number[];
  overlap: BoxOverlap;
  /** A box matches when overlap >= threshold (compared in float32, as torch does). */
  threshold: number;
}

export interface RefexpDatasetPrecision {
  dataset: string;
  count: number;
  /** precisionAt[i] is P@k for k = options.k[i]. */
  precisionAt: { k: number; precision: number }[];
}

/** True when box i sorts before box j in the reference's `sorted(zip(scores, boxes), reverse=True)`. */
function ranksBefore(scores: Float32Array, boxes: Float32Array, i: number, j: number): boolean {
  if (scores[i] !== scores[j]) return scores[i]! > scores[j]!;
  for (let c = 0; c < 4; c++) {
    const a = boxes[4 * i + c]!;
    const b = boxes[4 * j + c]!;
    if (a !== b) return a > b;
  }
  return false;
}

/**
 * Rank (0-based) of the first matching box in the reference's order, or -1 when no top-k can hit.
 * Mirrors one more quirk: refexp.py takes Python's built-in max() over the top k overlaps, which
 * keeps a NaN found first (nothing compares greater than NaN), so a NaN overlap of the top box
 * (two zero-area boxes) makes the expression a miss at every k.
 *
 * With `below` (the largest k asked for) fewer than the expression's boxes, only its `below`
 * best-ranked boxes are ranked and scored, best first, and -1 means none of them matches: a match
 * ranked lower is a miss at every k asked for. The overlap, in emulated float32, is most of the
 * cost: max(k) of the expression's boxes are scored instead of all of them. `scratch`, when it
 * holds `below` indices, is used for the ranking.
 */
export function firstMatchRank(input: RefexpPrecisionInput, e: number, options: RefexpPrecisionOptions, below = Infinity, scratch?: Int32Array): number {
  const { start, count, boxes, scores, targetBoxes } = input;
  const overlap = overlapFunction(options.overlap);
  const threshold = Math.fround(options.threshold);
  const f = Math.fround;
  const t0 = f(targetBoxes[4 * e]!);
  const t1 = f(targetBoxes[4 * e + 1]!);
  const t2 = f(targetBoxes[4 * e + 2]!);
  const t3 = f(targetBoxes[4 * e + 3]!);
  const first = start[e]!;
  const end = first + count[e]!;
  if (first === end) return -1;
  const overlapOf = (i: number) => overlap(boxes[4 * i]!, boxes[4 * i + 1]!, boxes[4 * i + 2]!, boxes[4 * i + 3]!, t0, t1, t2, t3);
  let best = -1;
  if (below < end - first) {
    if (below < 1) return -1;
    // (below < the box count here, so the list is never longer than the expression.)
    const order = scratch && scratch.length >= below ? scratch : new Int32Array(below);
    const ranked = topRanked(scores, boxes, first, end, below, order);
    for (let p = 0; p < ranked; p++) {
      const value = overlapOf(order[p]!);
      if (p === 0 && Number.isNaN(value)) return -1;
      if (value >= threshold) {
        best = order[p]!;
        break;
      }
    }
    if (best < 0) return -1;
  } else {
    let top = first;
    let topOverlap = NaN;
    for (let i = first; i < end; i++) {
      const value = overlapOf(i);
      if (i === first || ranksBefore(scores, boxes, i, top)) {
        top = i;
        topOverlap = value;
      }
      if (value >= threshold && (best < 0 || ranksBefore(scores, boxes, i, best))) best = i;
    }
    if (best < 0 || Number.isNaN(topOverlap)) return -1;
  }
  // (Scores compared first inline: most boxes differ from the best in score.)
  const bestScore = scores[best]!;
  let rank = 0;
  for (let i = first; i < end; i++) {
    const score = scores[i]!;
    if (score > bestScore || (score === bestScore && ranksBefore(scores, boxes, i, best))) rank++;
  }
  return rank;
}

/**
 * The `k` best-ranked of boxes [first, end) into `into`, best first (an insertion into a list of
 * at most k); how many. Boxes that rank alike (the same score and box) are interchangeable.
 */
function topRanked(scores: Float32Array, boxes: Float32Array, first: number, end: number, k: number, into: Int32Array): number {
  let n = 0;
  // The last kept box's score: a box scored below it cannot enter (most boxes, once k are kept).
  let floor = -Infinity;
  for (let i = first; i < end; i++) {
    if (n === k && (scores[i]! < floor || !ranksBefore(scores, boxes, i, into[n - 1]!))) continue;
    let p = n < k ? n++ : n - 1;
    for (; p > 0 && ranksBefore(scores, boxes, i, into[p - 1]!); p--) into[p] = into[p - 1]!;
    into[p] = i;
    if (n === k) floor = scores[into[n - 1]!]!;
  }
  return n;
}

export function refexpPrecision(input: RefexpPrecisionInput, options: RefexpPrecisionOptions): RefexpDatasetPrecision[] {
  const buckets = input.datasetNames.length;
  const kCount = options.k.length;
  const expressions = new Float64Array(buckets);
  const hits = new Float64Array(buckets * kCount);
  const below = Math.max(0, ...options.k);
  // Sized by the boxes an expression can have too: a k of 10^20 asks for no list that long.
  let mostBoxes = 0;
  for (let e = 0; e < input.count.length; e++) mostBoxes = Math.max(mostBoxes, input.count[e]!);
  const scratch = new Int32Array(Math.min(below, mostBoxes));
  for (let e = 0; e < input.datasetOf.length; e++) {
    const d = input.datasetOf[e]!;
    expressions[d]! += 1;
    const rank = firstMatchRank(input, e, options, below, scratch);
    if (rank < 0) continue;
    for (let j = 0; j < kCount; j++) if (rank < options.k[j]!) hits[d * kCount + j]! += 1;
  }
  return input.datasetNames.map((dataset, d) => ({
    dataset,
    count: expressions[d]!,
    precisionAt: options.k.map((k, j) => ({ k, precision: expressions[d] ? hits[d * kCount + j]! / expressions[d]! : 0 })),
  }));
}
