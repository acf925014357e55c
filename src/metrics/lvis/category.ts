/** One category through LVISEval: every image's matching, for each area range, then accumulation. */
import { precisionRecall, type CategoryAreaCurve } from "./accumulate.js";
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
  const areas = AREA_RANGES.map(() => ({ scores: [] as number[], truePositive: [] as number[], falsePositive: [] as number[], numGt: 0 }));
  let numDets = 0;
  for (const image of images) {
    const gts = gtRows.get(image) ?? [];
    // Best score first; equal scores keep file order (np.argsort(-score, kind="mergesort")).
    const ranked = [...(detRows.get(image) ?? [])].sort((x, y) => dets.score[y]! - dets.score[x]!);
    numDets += ranked.length;
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
      const outcome = evaluateImageCategory(input, range);
      const area = areas[a]!;
      area.numGt += outcome.numGt;
      ranked.forEach((d, i) => {
        area.scores.push(dets.score[d]!);
        area.truePositive.push(outcome.truePositive[i]!);
        area.falsePositive.push(outcome.falsePositive[i]!);
      });
    });
  }
  return {
    byArea: areas.map((area) => (area.numGt === 0 ? undefined : precisionRecall(area.scores, area.truePositive, area.falsePositive, area.numGt))),
    numGt: areas[0]!.numGt,
    numDets,
  };
}
