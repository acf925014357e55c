/** One category through LVISEval: every image's matching, for each area range, then accumulation. */
import { precisionRecall, rankByScore, type CategoryAreaCurve } from "./accumulate.js";
import { AREA_RANGES, evaluateImageCategory } from "./match.js";
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
  // The detections' scores in accumulation order (images by id, each image's ranking), the same
  // for every area range; the outcomes per area range.
  const scores: number[] = [];
  const areas = AREA_RANGES.map(() => ({ truePositive: [] as number[], falsePositive: [] as number[], numGt: 0 }));
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
  for (const image of images) {
    const gts = gtRows.get(image) ?? [];
    // Best score first; equal scores keep file order (np.argsort(-score, kind="mergesort")).
    const ranked = [...(detRows.get(image) ?? [])].sort((x, y) => dets.score[y]! - dets.score[x]!);
    for (const d of ranked) scores.push(dets.score[d]!);
    if (!anyCounted) continue;
    const input = {
      dets: ranked,
      gts,
      ious: overlaps(ranked, gts),
      gtArea: gt.annotations.area,
      gtIgnore: gt.annotations.ignore,
      gtId: gt.annotations.id,
      detArea: dets.area,
      notExhaustive: gt.notExhaustive.has(image * gt.categoryCount + category),
    };
    AREA_RANGES.forEach((range, a) => {
      if (!counted[a]) return;
      const outcome = evaluateImageCategory(input, range);
      const area = areas[a]!;
      area.numGt += outcome.numGt;
      for (let i = 0; i < ranked.length; i++) {
        area.truePositive.push(outcome.truePositive[i]!);
        area.falsePositive.push(outcome.falsePositive[i]!);
      }
    });
  }
  const order = areas.some((area) => area.numGt > 0) ? rankByScore(scores) : new Int32Array(0);
  return {
    byArea: areas.map((area) => (area.numGt === 0 ? undefined : precisionRecall(order, area.truePositive, area.falsePositive, area.numGt))),
    numGt: areas[0]!.numGt,
    numDets: scores.length,
  };
}
