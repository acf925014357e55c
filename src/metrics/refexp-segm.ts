/**
 * Referring-expression segmentation scores from each expression's pixel counts I = |P ∩ G| and
 * U = |P ∪ G|, per dataset name, by one of two references:
 * - "lavt" (LAVT-RIS test.py `evaluate()`): IoU = I / U, 0 when U = 0; mIoU = the mean IoU;
 *   oIoU = sum I / sum U; prec@t = the fraction with IoU >= t, t = 0.5, 0.6, 0.7, 0.8, 0.9;
 * - "cris" (CRIS.pytorch engine/engine.py `inference()`): IoU = I / (U + 1e-6); its "IoU" = the
 *   mean IoU; Pr@50 ... Pr@90 = the fraction with IoU > t, t = torch.arange(0.5, 1.0, 0.1) in
 *   float32, computed as torch computes it on the GPU (float32 mean).
 * Datasets with a no-target expression (no annotation: an empty ground truth, gRefCOCO) also get
 * ReLA's generalized keys (gres_model/evaluation/refer_evaluation.py), with "predicted no target"
 * taken to be an empty predicted mask.
 */

export type ResVariant = "lavt" | "cris";
export const RES_VARIANTS: readonly ResVariant[] = ["lavt", "cris"];

export interface ResInput {
  datasetNames: readonly string[];
  /** Per expression, an index into datasetNames. */
  datasetOf: Uint32Array;
  /** Per expression: |P ∩ G| and |P ∪ G| in pixels, at the image's own size. */
  intersection: Float64Array;
  union: Float64Array;
  /** Per expression: 1 when it has no annotation (a no-target expression). */
  noTarget: Uint8Array;
  /** Per expression: 1 when the predicted mask is empty (ReLA's "predicted no target"). */
  predictedEmpty: Uint8Array;
}

export interface ResPrecision {
  /** 50 for prec@0.5 (LAVT's name) or Pr@50 (CRIS's name). */
  percent: number;
  /** The threshold as the reference compares with it (CRIS's are float32 values). */
  threshold: number;
  fraction: number;
}

/** ReLA's keys, as fractions. */
export interface ResGeneralized {
  /** Mean over all expressions of: no-target, 1 when predicted empty else 0; targeted, IoU. */
  gIoU: number;
  /** sum I / sum U (equal to oIoU, since a no-target expression has I = 0 and U = |P|). */
  cIoU: number;
  /** No-target expressions predicted empty / no-target expressions. */
  nAcc: number;
  /** Targeted expressions predicted non-empty / targeted expressions. */
  tAcc: number;
}

/** Where the references have no number (they divide by zero) and the documented 0 was used. */
export type ResUndefinedCase = "sum-union-zero" | "no-targeted";

export interface ResDatasetScores {
  dataset: string;
  count: number;
  /** lavt: mIoU; cris: its "IoU" (the mean of I / (U + 1e-6)). */
  meanIoU: number;
  /** lavt: oIoU = sum I / sum U; cris has none (undefined). */
  overallIoU: number | undefined;
  precision: ResPrecision[];
  /** Present when the dataset has a no-target expression. */
  generalized: ResGeneralized | undefined;
  undefinedCases: ResUndefinedCase[];
}

/** LAVT's `eval_seg_iou_list = [.5, .6, .7, .8, .9]`, Python floats. */
const LAVT_THRESHOLDS = [0.5, 0.6, 0.7, 0.8, 0.9];
/**
 * CRIS's `torch.arange(0.5, 1.0, 0.1)`: a CPU tensor of the default dtype, float32, whose values
 * torch computes as start + step * i in double and then rounds: 0.5, 0.6000000238418579,
 * 0.699999988079071, 0.800000011920929, 0.8999999761581421. The float64 IoUs are compared with
 * them in float64 (a 0-dim tensor does not change the other operand's dtype).
 */
const CRIS_THRESHOLDS = [0, 1, 2, 3, 4].map((i) => Math.fround(0.5 + 0.1 * i));
/** CRIS's `np.sum(inter) / (np.sum(union) + 1e-6)`. */
const CRIS_EPS = 1e-6;

export function resThresholds(variant: ResVariant): readonly number[] {
  return variant === "lavt" ? LAVT_THRESHOLDS : CRIS_THRESHOLDS;
}

/** One expression's IoU as the variant computes it: LAVT's `I * 1.0 / U` (0 when U = 0), or CRIS's. */
export function expressionIoU(variant: ResVariant, intersection: number, union: number): number {
  if (variant === "cris") return intersection / (union + CRIS_EPS);
  return union === 0 ? 0 : intersection / union;
}

/** Whether an IoU counts at a threshold: LAVT's `this_iou >= t`, CRIS's `iou_list > thres`. */
export function countsAt(variant: ResVariant, iou: number, threshold: number): boolean {
  return variant === "lavt" ? iou >= threshold : iou > threshold;
}

/**
 * CRIS's `(iou_list > thres).float().mean()` on the GPU, where its iou_list lives: torch's CUDA
 * mean multiplies the float32 sum by float32(1 / n) (MeanOps.project), one rounding more than
 * the CPU's sum / n: the two can differ by one float32 step (6e-8 relative).
 */
function float32Mean(hits: number, count: number): number {
  return Math.fround(Math.fround(hits) * Math.fround(1 / count));
}

/** The float64 `iou_list.mean()` on the GPU: the sum times 1 / n (summation order aside). */
function cudaMean(sum: number, count: number): number {
  return sum * (1 / count);
}

export function resScores(input: ResInput, variant: ResVariant): ResDatasetScores[] {
  const thresholds = resThresholds(variant);
  const buckets = input.datasetNames.length;
  const t = thresholds.length;
  const count = new Float64Array(buckets);
  const iouSum = new Float64Array(buckets);
  const sumI = new Float64Array(buckets);
  const sumU = new Float64Array(buckets);
  const hits = new Float64Array(buckets * t);
  // ReLA's accumulators: accum_IoU, and the no-target confusion counts (its TP, FN, TN, FP).
  const gIoUSum = new Float64Array(buckets);
  const noTarget = new Float64Array(buckets);
  const noTargetEmpty = new Float64Array(buckets);
  const targetedFilled = new Float64Array(buckets);
  for (let e = 0; e < input.datasetOf.length; e++) {
    const d = input.datasetOf[e]!;
    const I = input.intersection[e]!;
    const U = input.union[e]!;
    const iou = expressionIoU(variant, I, U);
    count[d]! += 1;
    iouSum[d]! += iou;
    sumI[d]! += I;
    sumU[d]! += U;
    for (let j = 0; j < t; j++) if (countsAt(variant, iou, thresholds[j]!)) hits[d * t + j]! += 1;
    const empty = input.predictedEmpty[e] === 1;
    if (input.noTarget[e]) {
      // ReLA: a true positive scores 1 (and adds nothing to I or U), a false negative 0 (its U counts).
      noTarget[d]! += 1;
      if (empty) {
        noTargetEmpty[d]! += 1;
        gIoUSum[d]! += 1;
      }
    } else {
      // ReLA: `this_iou = 0 if U == 0 else I / U` for every targeted expression, whatever predicted.
      if (!empty) targetedFilled[d]! += 1;
      gIoUSum[d]! += U === 0 ? 0 : I / U;
    }
  }
  return input.datasetNames.map((dataset, d) => {
    const n = count[d]!;
    const undefinedCases: ResUndefinedCase[] = [];
    // LAVT's `cum_I * 100. / cum_U` is NaN when nothing was predicted or annotated: 0, the rule
    // LAVT itself applies to one expression with U = 0.
    const cumulative = () => {
      if (sumU[d] === 0) {
        if (!undefinedCases.includes("sum-union-zero")) undefinedCases.push("sum-union-zero");
        return 0;
      }
      return sumI[d]! / sumU[d]!;
    };
    const lavt = variant === "lavt";
    const precision = thresholds.map((threshold, j) => ({
      percent: Math.round(threshold * 100),
      threshold,
      fraction: lavt ? hits[d * t + j]! / n : float32Mean(hits[d * t + j]!, n),
    }));
    let generalized: ResGeneralized | undefined;
    if (noTarget[d]! > 0) {
      const targeted = n - noTarget[d]!;
      // ReLA's T_acc divides by zero without a targeted expression: 0, as ReLA reports the
      // accuracies it cannot compute (`T_acc = N_acc = 0` without a no-target expression).
      if (targeted === 0) undefinedCases.push("no-targeted");
      generalized = {
        gIoU: gIoUSum[d]! / n,
        cIoU: cumulative(),
        nAcc: noTargetEmpty[d]! / noTarget[d]!,
        tAcc: targeted === 0 ? 0 : targetedFilled[d]! / targeted,
      };
    }
    return {
      dataset,
      count: n,
      meanIoU: lavt ? iouSum[d]! / n : cudaMean(iouSum[d]!, n),
      overallIoU: lavt ? cumulative() : undefined,
      precision,
      generalized,
      undefinedCases,
    };
  });
}
