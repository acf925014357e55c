import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AccumulateScratch, CURVE_LENGTH, curveAt, precisionRecall, rankByScore } from "../src/metrics/lvis/accumulate.js";
import { IOU_THRESHOLDS, RECALL_THRESHOLDS } from "../src/metrics/lvis/match.js";
import { keepBestPerGroup } from "../src/metrics/lvis/select.js";
import { seeded } from "./helpers.js";

/**
 * LVISEval.accumulate's steps as written there, for one (category, area): cumulative sums over
 * every ranked detection (ignored ones too), the envelope over all of them, a linear
 * searchsorted(side="left"). The oracle for the true-positive-only walk.
 */
function accumulateAsWritten(order: Int32Array, tpBits: Uint16Array, fpBits: Uint16Array, numGt: number) {
  const precision = new Float64Array(IOU_THRESHOLDS.length * RECALL_THRESHOLDS.length);
  const recall = new Float64Array(IOU_THRESHOLDS.length);
  IOU_THRESHOLDS.forEach((_, t) => {
    let tp = 0;
    let fp = 0;
    const rc: number[] = [];
    const pr: number[] = [];
    for (const d of order) {
      tp += (tpBits[d]! >> t) & 1;
      fp += (fpBits[d]! >> t) & 1;
      rc.push(tp / numGt);
      pr.push(tp / (fp + tp + 2.220446049250313e-16));
    }
    recall[t] = order.length ? rc[rc.length - 1]! : 0;
    for (let i = pr.length - 1; i > 0; i--) if (pr[i]! > pr[i - 1]!) pr[i - 1] = pr[i]!;
    RECALL_THRESHOLDS.forEach((point, r) => {
      const i = rc.findIndex((v) => v >= point);
      if (i >= 0) precision[t * RECALL_THRESHOLDS.length + r] = pr[i]!;
    });
  });
  return { precision, recall };
}

/** Runs of descending scores (one per image), ties within and across runs. */
function rankedRuns(random: () => number, n: number): Float64Array {
  const scores: number[] = [];
  while (scores.length < n) {
    const run = Array.from({ length: 1 + Math.floor(random() * 6) }, () => Math.floor(random() * 20) / 20);
    scores.push(...run.sort((a, b) => b - a));
  }
  return Float64Array.from(scores.slice(0, n));
}

describe("LVIS accumulate", () => {
  it("ranks as a stable sort by score, best first (np.argsort(-scores, kind='mergesort'))", () => {
    const random = seeded(3);
    const scratch = new AccumulateScratch();
    for (const n of [0, 1, 2, 3, 7, 50, 333, 1000]) {
      const scores = rankedRuns(random, n);
      const expected = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[b]! - scores[a]!);
      assert.deepEqual(Array.from(rankByScore(scores, scratch)), expected, `n = ${n}`);
    }
  });

  it("walking only the true positives gives lvis-api's precision and recall, bit for bit", () => {
    const random = seeded(8);
    const scratch = new AccumulateScratch();
    for (let trial = 0; trial < 300; trial++) {
      const n = Math.floor(random() * 120);
      const scores = rankedRuns(random, n);
      const tp = new Uint16Array(n);
      const fp = new Uint16Array(n);
      let matched = 0;
      for (let d = 0; d < n; d++) {
        const u = random();
        // A match up to some threshold, then (unless ignored) false positives above it.
        if (u < 0.4) {
          const upTo = Math.floor(random() * 11);
          tp[d] = (1 << upTo) - 1;
          if (random() < 0.8) fp[d] = 1023 & ~tp[d]!;
          matched++;
        } else if (u < 0.8) fp[d] = 1023;
        else if (u < 0.9) fp[d] = Math.floor(random() * 1024);
      }
      const numGt = matched + Math.floor(random() * 5) + 1;
      const order = rankByScore(scores, scratch).slice();
      const expected = accumulateAsWritten(order, tp, fp, numGt);
      const got = curveAt(new Float64Array(CURVE_LENGTH), 0);
      precisionRecall(order, tp, fp, numGt, scratch, got);
      assert.deepEqual(Array.from(got.recall), Array.from(expected.recall), `trial ${trial}`);
      assert.deepEqual(Array.from(got.precision), Array.from(expected.precision), `trial ${trial}`);
    }
  });
});

describe("LVIS selection", () => {
  it("keeps each group's best by score, ties in file order, as a stable sort's first `limit`", () => {
    const random = seeded(21);
    for (let trial = 0; trial < 200; trial++) {
      const n = Math.floor(random() * 400);
      const buckets = 1 + Math.floor(random() * 6);
      const keys = Int32Array.from({ length: n }, () => Math.floor(random() * buckets));
      // Few distinct scores, -0 among them: ties at the cut are the rule, not the exception.
      const score = Float64Array.from({ length: n }, () => [0, -0, 0.25, 0.5, 0.75, 1][Math.floor(random() * 6)]!);
      const limit = Math.floor(random() * 60);
      const keep = new Uint8Array(n);
      keepBestPerGroup(keys, buckets, score, limit, keep);
      const expected = new Uint8Array(n);
      for (let b = 0; b < buckets; b++) {
        const members = Array.from({ length: n }, (_, d) => d).filter((d) => keys[d] === b);
        members.sort((x, y) => score[y]! - score[x]!).slice(0, limit).forEach((d) => (expected[d] = 1));
      }
      assert.deepEqual(Array.from(keep), Array.from(expected), `trial ${trial}`);
    }
  });
});
