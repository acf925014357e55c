/** One category through LVISEval: every image's matching, for each area range, then accumulation. */
import { AccumulateScratch, CURVE_LENGTH, curveAt, precisionRecall, rankByScore, type CategoryAreaCurve } from "./accumulate.js";
import { ALL_THRESHOLDS, AREA_RANGES, MatchScratch, evaluateImageCategory, type AreaOutcomes } from "./match.js";
import type { Overlaps } from "./overlaps.js";
import type { DetectionColumns, LvisGroundTruthColumns } from "./columns.js";
import { atLeast } from "../../core/growable.js";

export interface CategoryCurves {
  /** Per area range; undefined where no ground truth counts (lvis-api leaves -1 there). */
  byArea: (CategoryAreaCurve | undefined)[];
  numGt: number;
  numDets: number;
}

/**
 * Where curves are written: blocks of `perBlock` curves, taken in order. One allocation per curve
 * (or per category) cost more than the curves' arithmetic; a block's untouched pages (curves
 * never taken) cost no memory.
 */
export class CurveArena {
  private block = new Float64Array(0);
  private used = 0;

  constructor(private readonly perBlock: number) {}

  take(): CategoryAreaCurve {
    if (this.used === this.block.length) {
      this.block = new Float64Array(this.perBlock * CURVE_LENGTH);
      this.used = 0;
    }
    const curve = curveAt(this.block, this.used);
    this.used += CURVE_LENGTH;
    return curve;
  }
}

/**
 * At most this many curves in one block (2 MiB): with 32 MiB blocks the peak RSS of bench lvis
 * --images 1000 rose by 20 MiB (transparent huge pages commit a block in 2 MiB steps), for no
 * gain in speed.
 */
const MOST_CURVES_PER_BLOCK = 256;

/** Working memory reused from category to category (see MatchScratch). */
export class CategoryScratch {
  readonly match = new MatchScratch();
  readonly accumulate = new AccumulateScratch();
  readonly curves: CurveArena;
  /** Per area range: the outcomes of the category's detections. */
  private readonly outcomes: AreaOutcomes[] = AREA_RANGES.map(() => ({ truePositive: new Uint16Array(256), falsePositive: new Uint16Array(256) }));
  private scores = new Float64Array(256);

  /** `categories`: how many categories will be accumulated with it (sizes the curves' blocks). */
  constructor(categories: number) {
    this.curves = new CurveArena(Math.max(1, Math.min(MOST_CURVES_PER_BLOCK, AREA_RANGES.length * categories)));
  }

  /** Room for `total` scores (a view of that length). */
  scoresFor(total: number): Float64Array {
    this.scores = atLeast(this.scores, total, Float64Array);
    return this.scores.subarray(0, total);
  }

  /** Zeroed outcome arrays for `total` detections in each area range. */
  outcomesFor(total: number): AreaOutcomes[] {
    for (const o of this.outcomes) {
      o.truePositive = atLeast(o.truePositive, total, Uint16Array).fill(0, 0, total);
      o.falsePositive = atLeast(o.falsePositive, total, Uint16Array).fill(0, 0, total);
    }
    return this.outcomes;
  }
}

/**
 * `gtRows`: the category's counted ground truth by image ascending, file order inside; `detRows`:
 * its selected detections by image ascending, each image's ranked (arrange.ts).
 */
export function accumulateCategory(
  category: number,
  gt: LvisGroundTruthColumns,
  dets: DetectionColumns,
  gtRows: Int32Array,
  detRows: Int32Array,
  overlaps: Overlaps,
  scratch: CategoryScratch,
): CategoryCurves {
  const gtImage = gt.annotations.image;
  const { area: gtArea, ignore: gtIgnore } = gt.annotations;
  // An area range where the category has no counted ground truth gets no curve (lvis-api's -1),
  // so its matching would decide nothing: it is skipped, and with no range left, so are the IoUs.
  // (Indexed loops here and below: this runs for every (category, image), and destructuring
  // callbacks cost more than the comparisons.)
  // The ground truth that counts in each range (not ignored, its area inside): evaluate_img's
  // num_gt, summed over the images.
  const numGt = AREA_RANGES.map(() => 0);
  for (let k = 0; k < gtRows.length; k++) {
    const g = gtRows[k]!;
    if (gtIgnore[g]) continue;
    for (let a = 0; a < AREA_RANGES.length; a++) {
      const range = AREA_RANGES[a]!;
      if (gtArea[g]! >= range[0] && gtArea[g]! <= range[1]) numGt[a]!++;
    }
  }
  const counted = numGt.map((count) => count > 0);
  const anyCounted = counted.some(Boolean);
  const total = detRows.length;
  // The outcomes per area range, in accumulation order (images by id, each image's ranking).
  const outcomes = anyCounted ? scratch.outcomesFor(total) : [];
  // The images with ground truth or detections of the category, ascending: both lists are by image.
  for (let gi = 0, di = 0; gi < gtRows.length || di < total; ) {
    const image = Math.min(gi < gtRows.length ? gtImage[gtRows[gi]!]! : Infinity, di < total ? dets.image[detRows[di]!]! : Infinity);
    let gj = gi;
    while (gj < gtRows.length && gtImage[gtRows[gj]!] === image) gj++;
    let dj = di;
    while (dj < total && dets.image[detRows[dj]!] === image) dj++;
    if (anyCounted) {
      const notExhaustive = gt.notExhaustive.has(image * gt.categoryCount + category);
      // Views only for the pairs that are matched (a view per pair was a good part of the garbage).
      if (dj === di) {
        // Ground truth alone: nothing to match (it is counted in numGt already).
      } else if (gj === gi) unmatched(dets, detRows, di, dj, notExhaustive, counted, outcomes);
      else {
        const gts = gtRows.subarray(gi, gj);
        const ranked = detRows.subarray(di, dj);
        const ious = overlaps(ranked, gts);
        const bestIou = scratch.match.bestIous(ious, ranked.length, gts.length);
        const input = { dets: ranked, gts, ious, bestIou, gtArea, gtIgnore, gtId: gt.annotations.id, detArea: dets.area, notExhaustive };
        for (let a = 0; a < AREA_RANGES.length; a++) {
          if (counted[a]) evaluateImageCategory(input, AREA_RANGES[a]!, outcomes[a]!, di, scratch.match);
        }
      }
    }
    gi = gj;
    di = dj;
  }
  let order: Int32Array = new Int32Array(0);
  if (anyCounted) {
    // The detections' scores in accumulation order, the same for every area range.
    const scores = scratch.scoresFor(total);
    for (let i = 0; i < total; i++) scores[i] = dets.score[detRows[i]!]!;
    order = rankByScore(scores, scratch.accumulate);
  }
  const byArea = numGt.map((count, a) => {
    if (count === 0) return undefined;
    const curve = scratch.curves.take();
    precisionRecall(order, outcomes[a]!.truePositive, outcomes[a]!.falsePositive, count, scratch.accumulate, curve);
    return curve;
  });
  return { byArea, numGt: numGt[0]!, numDets: total };
}


/**
 * evaluate_img without ground truth: nothing matches, so a detection is a false positive at every
 * threshold unless it is ignored (outside the range, or the category not exhaustive here).
 */
function unmatched(dets: DetectionColumns, detRows: Int32Array, from: number, to: number, notExhaustive: boolean, counted: readonly boolean[], outcomes: readonly AreaOutcomes[]): void {
  for (let a = 0; a < AREA_RANGES.length; a++) {
    if (!counted[a]) continue;
    const [low, high] = AREA_RANGES[a]!;
    const falsePositive = outcomes[a]!.falsePositive;
    for (let i = from; i < to; i++) {
      const area = dets.area[detRows[i]!]!;
      if (!(area < low || area > high || notExhaustive)) falsePositive[i] = ALL_THRESHOLDS;
    }
  }
}
