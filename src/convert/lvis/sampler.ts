/**
 * MDETR's balanced few-shot sampler (scripts/fine-tuning/lvis_coco_format.py, `get_subset`), pick
 * for pick: the same images for the same file, fraction and seed. The reference re-sorts a Counter
 * of every category at each category it visits; here the same visiting order comes from one scan
 * of typed arrays per pick, and each category's remaining candidates sit in a Fenwick tree, so
 * `random.choice(sorted(candidates))` finds its image in O(log n). Pure: plain data in, picks out.
 */
import { PythonRandom } from "../../compat/python-random.js";

/** What the sampler reads; categories and images are indices, lists flattened (see IndexLists). */
export interface SamplerInput {
  /** Image ids in file order (candidates are sorted by id, as numbers). */
  imageIds: Float64Array;
  negativeStart: Int32Array;
  negativeCategory: Int32Array;
  notExhaustiveStart: Int32Array;
  notExhaustiveCategory: Int32Array;
  annotationImage: Int32Array;
  annotationCategory: Int32Array;
  categoryIds: Float64Array;
  /** The categories' `image_count` field. */
  categoryImageCount: Float64Array;
}

export interface SamplerOptions {
  fraction: number;
  seed: bigint;
  /** Called after every pick (a progress bar). */
  onPick?: () => void;
}

export interface SamplerResult {
  /** `int(len(images) * fraction)`: how many images were picked. */
  targetCount: number;
  /** 1 for each picked image, in file order. */
  kept: Uint8Array;
  /** Image indices in the order they were picked. */
  picks: Int32Array;
  /** Picks made for the negative counter (every tenth, from the first). */
  negativeSteps: number;
}

/** Why the reference sampler fails for this input (its assertions), in words the CLI can print. */
export class SamplerFailure extends Error {
  override readonly name = "SamplerFailure";
}

/** Category-to-image sets as sorted segments, each with a Fenwick tree of the images still unpicked. */
class CandidateSets {
  readonly remaining: Int32Array;
  private readonly tree: Int32Array;

  constructor(
    readonly start: Int32Array,
    /** Image ranks (positions in id order), ascending within each category's segment. */
    readonly ranks: Int32Array,
  ) {
    const categories = start.length - 1;
    this.remaining = new Int32Array(categories);
    this.tree = new Int32Array(ranks.length);
    for (let c = 0; c < categories; c++) {
      const s = start[c]!;
      const length = start[c + 1]! - s;
      this.remaining[c] = length;
      // A Fenwick tree over all ones: node i covers lowbit(i) elements.
      for (let i = 1; i <= length; i++) this.tree[s + i - 1] = i & -i;
    }
  }

  /** Drops image `rank` from category c's candidates (it must be there). */
  remove(c: number, rank: number): void {
    const s = this.start[c]!;
    const length = this.start[c + 1]! - s;
    let lo = s;
    let hi = s + length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.ranks[mid]! < rank) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo - s + 1; i <= length; i += i & -i) this.tree[s + i - 1]!--;
    this.remaining[c]!--;
  }

  /** The rank of the k-th (0-based) remaining candidate of category c, in ascending id order. */
  kth(c: number, k: number): number {
    const s = this.start[c]!;
    const length = this.start[c + 1]! - s;
    let position = 0;
    let left = k + 1;
    for (let step = 1 << (31 - Math.clz32(length)); step > 0; step >>>= 1) {
      const next = position + step;
      if (next <= length && this.tree[s + next - 1]! < left) {
        position = next;
        left -= this.tree[s + next - 1]!;
      }
    }
    return this.ranks[s + position]!;
  }
}

/** Groups (key, value) pairs by key, values ascending and distinct: a CSR layout over `keys` keys. */
function groupDistinct(keyCount: number, valueCount: number, pairs: Float64Array): { start: Int32Array; values: Int32Array } {
  pairs.sort();
  const start = new Int32Array(keyCount + 1);
  const values = new Int32Array(pairs.length);
  let n = 0;
  let previous = -1;
  for (let p = 0; p < pairs.length; p++) {
    const pair = pairs[p]!;
    if (pair === previous) continue;
    previous = pair;
    const key = Math.floor(pair / valueCount);
    values[n++] = pair - key * valueCount;
    start[key + 1]!++;
  }
  for (let k = 0; k < keyCount; k++) start[k + 1]! += start[k]!;
  return { start, values: values.slice(0, n) };
}

/** `target_count = int(len(images) * fract)`: the double product, truncated (100 * 0.57 -> 56). */
export function targetCount(imageCount: number, fraction: number): number {
  return Math.trunc(imageCount * fraction);
}

/** Runs get_subset for a fraction other than 1 (at exactly 1 MDETR keeps every image unsampled). */
export function sampleBalancedSubset(input: SamplerInput, options: SamplerOptions): SamplerResult {
  const imageCount = input.imageIds.length;
  const categoryCount = input.categoryIds.length;
  const target = targetCount(imageCount, options.fraction);
  if (target <= 0) throw new SamplerFailure(`int(${imageCount} images * ${options.fraction}) = ${target}: no image to pick`);
  if (target > imageCount) throw new SamplerFailure(`int(${imageCount} images * ${options.fraction}) = ${target} is more images than the file has`);
  if (categoryCount === 0) throw new SamplerFailure("the file has no categories to balance");

  // Candidates are sorted(list(set)) of image ids: rank images by id, as numbers.
  const byId = Int32Array.from({ length: imageCount }, (_, i) => i).sort((a, b) => input.imageIds[a]! - input.imageIds[b]!);
  const rank = new Int32Array(imageCount);
  byId.forEach((image, r) => (rank[image] = r));

  // An annotation counts unless its category is in its image's not_exhaustive_category_ids.
  const { annotationImage, annotationCategory, notExhaustiveStart, notExhaustiveCategory } = input;
  const annotationCount = annotationImage.length;
  const counted = new Uint8Array(annotationCount);
  const exhaustive = new Uint8Array(categoryCount);
  for (let a = 0; a < annotationCount; a++) {
    const image = annotationImage[a]!;
    const category = annotationCategory[a]!;
    let listed = false;
    for (let e = notExhaustiveStart[image]!; e < notExhaustiveStart[image + 1]!; e++) if (notExhaustiveCategory[e] === category) listed = true;
    if (!listed) {
      counted[a] = 1;
      exhaustive[category] = 1;
    }
  }
  // A category never exhaustively annotated anywhere gets all of its annotations instead.
  const positivePairs = new Float64Array(annotationCount);
  let pairCount = 0;
  for (let a = 0; a < annotationCount; a++) {
    const category = annotationCategory[a]!;
    if (counted[a] || !exhaustive[category]) positivePairs[pairCount++] = category * imageCount + rank[annotationImage[a]!]!;
  }
  const positive = groupDistinct(categoryCount, imageCount, positivePairs.subarray(0, pairCount));
  // img2cat: the same pairs by image.
  const imagePairs = new Float64Array(positive.values.length);
  for (let c = 0, p = 0; c < categoryCount; c++) for (let e = positive.start[c]!; e < positive.start[c + 1]!; e++) imagePairs[p++] = positive.values[e]! * categoryCount + c;
  const categoriesOf = groupDistinct(imageCount, categoryCount, imagePairs);

  const { negativeStart, negativeCategory } = input;
  const negativePairs = new Float64Array(negativeCategory.length);
  for (let image = 0; image < imageCount; image++) {
    for (let e = negativeStart[image]!; e < negativeStart[image + 1]!; e++) negativePairs[e] = negativeCategory[e]! * imageCount + rank[image]!;
  }
  const negative = groupDistinct(categoryCount, imageCount, negativePairs);

  const positiveSets = new CandidateSets(positive.start, positive.values);
  const negativeSets = new CandidateSets(negative.start, negative.values);
  const positiveCount = new Float64Array(categoryCount);
  const negativeCount = new Float64Array(categoryCount);

  // Counter keys are inserted in sorted((image_count, id), reverse=True) order; most_common() is
  // a stable sort by count, so read from the end it visits count ascending and, among equal
  // counts, the last inserted first: image_count ascending, then id ascending.
  const visitOrder = Int32Array.from({ length: categoryCount }, (_, c) => c).sort(
    (a, b) => input.categoryImageCount[a]! - input.categoryImageCount[b]! || input.categoryIds[a]! - input.categoryIds[b]!,
  );

  const random = new PythonRandom(options.seed);
  const kept = new Uint8Array(imageCount);
  const picks = new Int32Array(target);
  const seen = new Int32Array(categoryCount).fill(-1);
  let negativeSteps = 0;
  for (let j = 0; j < target; j++) {
    const negativeStep = j % 10 === 0;
    if (negativeStep) negativeSteps++;
    const sets = negativeStep ? negativeSets : positiveSets;
    const counts = negativeStep ? negativeCount : positiveCount;
    // The first category in visiting order that still has a candidate (the reference marks the
    // ones without as exhausted on its way there; they never get one back).
    let chosen = -1;
    let lowest = Infinity;
    for (let v = 0; v < categoryCount; v++) {
      const c = visitOrder[v]!;
      if (sets.remaining[c]! > 0 && counts[c]! < lowest) {
        chosen = c;
        lowest = counts[c]!;
      }
    }
    if (chosen < 0) {
      throw new SamplerFailure(
        negativeStep
          ? `pick ${j + 1} of ${target} is a negative one (picks 1, 11, 21, ... take an image through its neg_category_ids) and every image with negative categories is taken already`
          : `at pick ${j + 1} of ${target} every image with an annotation the sampler counts is taken already`,
      );
    }
    const r = sets.kth(chosen, random.choiceIndex(sets.remaining[chosen]!));
    const image = byId[r]!;
    kept[image] = 1;
    picks[j] = image;
    for (let e = categoriesOf.start[r]!; e < categoriesOf.start[r + 1]!; e++) {
      const c = categoriesOf.values[e]!;
      positiveCount[c]!++;
      positiveSets.remove(c, r);
    }
    for (let e = negativeStart[image]!; e < negativeStart[image + 1]!; e++) {
      const c = negativeCategory[e]!;
      negativeCount[c]!++;
      // A category listed twice counts twice, but the image is one candidate of it.
      if (seen[c] !== j) negativeSets.remove(c, r);
      seen[c] = j;
    }
    options.onPick?.();
  }
  const uncovered: number[] = [];
  for (let c = 0; c < categoryCount; c++) if (positiveCount[c] === 0) uncovered.push(c);
  if (uncovered.length > 0) {
    const never = uncovered.filter((c) => positive.start[c + 1] === positive.start[c]).length;
    const example = uncovered.slice(0, 3).map((c) => input.categoryIds[c]).join(", ");
    throw new SamplerFailure(
      `the ${target} images picked leave ${uncovered.length} of ${categoryCount} categories without an image (ids ${example}${uncovered.length > 3 ? ", ..." : ""}), and MDETR's sampler requires one for each` +
        (never > 0 ? `; ${never} of them have no annotation at all, so no fraction below 1 can cover them` : "; a larger --fraction may cover them"),
    );
  }
  return { targetCount: target, kept, picks, negativeSteps };
}
