/** One category through LVISEval: every image's matching, for each area range, then accumulation. */
import { precisionRecall, rankByScore, type CategoryAreaCurve } from "./accumulate.js";
import { AREA_RANGES, IOU_THRESHOLDS, MatchScratch, evaluateImageCategory, type AreaOutcomes } from "./match.js";
import type { Overlaps } from "./overlaps.js";
import type { DetectionColumns, LvisGroundTruthColumns } from "./columns.js";

export interface CategoryCurves {
  /** Per area range; undefined where no ground truth counts (lvis-api leaves -1 there). */
  byArea: (CategoryAreaCurve | undefined)[];
  numGt: number;
  numDets: number;
}

export function accumulateCategory(
  category: number,
  gt: LvisGroundTruthColumns,
  dets: DetectionColumns,
  gtRows: ReadonlyMap<number, number[]>,
  detRows: ReadonlyMap<number, number[]>,
  overlaps: Overlaps,
): CategoryCurves {
  const images = [...new Set([...gtRows.keys(), ...detRows.keys()])].sort((x, y) => x - y);
  // An area range where the category has no counted ground truth gets no curve (lvis-api's -1),
  // so its matching would decide nothing: it is skipped, and with no range left, so are the IoUs.
  const counted = AREA_RANGES.map(([low, high]) => {
    for (const gts of gtRows.values()) {
      for (const g of gts) {
        const area = gt.annotations.area[g]!;
        if (!gt.annotations.ignore[g] && area >= low && area <= high) return true;
      }
    }
    return false;
  });
  const anyCounted = counted.some(Boolean);
  let total = 0;
  for (const rows of detRows.values()) total += rows.length;
  // The detections' scores in accumulation order (images by id, each image's ranking), the same
  // for every area range; the outcomes per area range, in that order.
  const scores = new Float64Array(total);
  const areas = AREA_RANGES.map((_, a) => ({
    truePositive: new Uint16Array(counted[a] ? total : 0),
    falsePositive: new Uint16Array(counted[a] ? total : 0),
    numGt: 0,
  }));
  const scratch = new MatchScratch();
  let at = 0;
  for (const image of images) {
    const gts = gtRows.get(image) ?? NONE;
    // Best score first; equal scores keep file order (np.argsort(-score, kind="mergesort")).
    const ranked = [...(detRows.get(image) ?? NONE)].sort((x, y) => dets.score[y]! - dets.score[x]!);
    for (let i = 0; i < ranked.length; i++) scores[at + i] = dets.score[ranked[i]!]!;
    if (anyCounted) {
      const notExhaustive = gt.notExhaustive.has(image * gt.categoryCount + category);
      if (ranked.length === 0) countGroundTruth(gt, gts, counted, areas);
      else if (gts.length === 0) unmatched(dets, ranked, at, notExhaustive, counted, areas);
      else {
        const input = {
          dets: ranked,
          gts,
          ious: overlaps(ranked, gts),
          gtArea: gt.annotations.area,
          gtIgnore: gt.annotations.ignore,
          gtId: gt.annotations.id,
          detArea: dets.area,
          notExhaustive,
        };
        AREA_RANGES.forEach((range, a) => {
          if (counted[a]) areas[a]!.numGt += evaluateImageCategory(input, range, areas[a]!, at, scratch);
        });
      }
    }
    at += ranked.length;
  }
  const order = areas.some((area) => area.numGt > 0) ? rankByScore(scores) : new Int32Array(0);
  return {
    byArea: areas.map((area) => (area.numGt === 0 ? undefined : precisionRecall(order, area.truePositive, area.falsePositive, area.numGt))),
    numGt: areas[0]!.numGt,
    numDets: scores.length,
  };
}

const NONE: readonly number[] = [];
/** Every threshold's bit (IOU_THRESHOLDS has 10). */
const ALL_THRESHOLDS = (1 << IOU_THRESHOLDS.length) - 1;

interface AreaTally extends AreaOutcomes {
  numGt: number;
}

/** evaluate_img without detections: only the ground truth that counts in each range. */
function countGroundTruth(gt: LvisGroundTruthColumns, gts: readonly number[], counted: readonly boolean[], areas: AreaTally[]): void {
  AREA_RANGES.forEach(([low, high], a) => {
    if (!counted[a]) return;
    for (const g of gts) {
      const area = gt.annotations.area[g]!;
      if (!gt.annotations.ignore[g] && area >= low && area <= high) areas[a]!.numGt++;
    }
  });
}

/**
 * evaluate_img without ground truth: nothing matches, so a detection is a false positive at every
 * threshold unless it is ignored (outside the range, or the category not exhaustive here).
 */
function unmatched(dets: DetectionColumns, ranked: readonly number[], at: number, notExhaustive: boolean, counted: readonly boolean[], areas: AreaTally[]): void {
  AREA_RANGES.forEach(([low, high], a) => {
    if (!counted[a]) return;
    const falsePositive = areas[a]!.falsePositive;
    for (let i = 0; i < ranked.length; i++) {
      const area = dets.area[ranked[i]!]!;
      if (!(area < low || area > high || notExhaustive)) falsePositive[at + i] = ALL_THRESHOLDS;
    }
  });
}
