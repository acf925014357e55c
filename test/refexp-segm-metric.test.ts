import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { countsAt, expressionIoU, resScores, resThresholds, type ResInput } from "../src/metrics/refexp-segm.js";

/** Expressions of one dataset from [I, U, noTarget?, predictedEmpty?] rows. */
function input(rows: [number, number, number?, number?][], datasets?: number[]): ResInput {
  const names = datasets ? [...new Set(datasets)].map((d) => `d${d}`) : ["d0"];
  return {
    datasetNames: names,
    datasetOf: Uint32Array.from(datasets ?? rows.map(() => 0)),
    intersection: Float64Array.from(rows, (r) => r[0]),
    union: Float64Array.from(rows, (r) => r[1]),
    noTarget: Uint8Array.from(rows, (r) => r[2] ?? 0),
    predictedEmpty: Uint8Array.from(rows, (r) => r[3] ?? (r[0] === 0 && r[1] === 0 ? 1 : 0)),
  };
}

const fractions = (row: { precision: { fraction: number }[] }) => row.precision.map((p) => p.fraction);

describe("RES metric (LAVT's rule, the default)", () => {
  // I / U exactly 0.5, 0.6, 0.7, 0.8, 0.9 (one float64 division each: 7 / 10 === 0.7).
  const atThresholds = input([[1, 2], [3, 5], [7, 10], [4, 5], [9, 10]]);

  it("an IoU exactly at a threshold counts (>=): prec@0.5..0.9 = 5/5, 4/5, 3/5, 2/5, 1/5", () => {
    const [row] = resScores(atThresholds, "lavt");
    assert.deepEqual(fractions(row!), [1, 4 / 5, 3 / 5, 2 / 5, 1 / 5]);
    assert.deepEqual(row!.precision.map((p) => p.percent), [50, 60, 70, 80, 90]);
    assert.equal(row!.count, 5);
  });

  it("mIoU is the mean IoU, oIoU = sum I / sum U (24 / 32)", () => {
    const [row] = resScores(atThresholds, "lavt");
    assert.ok(Math.abs(row!.meanIoU - (0.5 + 0.6 + 0.7 + 0.8 + 0.9) / 5) < 1e-15);
    assert.equal(row!.overallIoU, 24 / 32);
    assert.equal(row!.generalized, undefined, "no no-target expression: no ReLA keys");
  });

  it("just below a threshold does not count", () => {
    const [row] = resScores(input([[4999, 10000], [5999, 10000]]), "lavt");
    assert.deepEqual(fractions(row!), [1 / 2, 0, 0, 0, 0]);
  });

  it("U = 0 gives IoU 0 (counted nowhere), and sum U = 0 gives oIoU 0, flagged as undefined", () => {
    assert.equal(expressionIoU("lavt", 0, 0), 0);
    const [mixed] = resScores(input([[0, 0], [1, 1]]), "lavt");
    assert.equal(mixed!.meanIoU, 0.5);
    assert.deepEqual(fractions(mixed!), [0.5, 0.5, 0.5, 0.5, 0.5]);
    assert.deepEqual(mixed!.undefinedCases, []);
    const [empty] = resScores(input([[0, 0], [0, 0]]), "lavt");
    assert.equal(empty!.overallIoU, 0);
    assert.equal(empty!.meanIoU, 0);
    assert.deepEqual(empty!.undefinedCases, ["sum-union-zero"]);
  });

  it("datasets are scored apart", () => {
    const rows = resScores(input([[1, 2], [1, 1], [0, 4]], [0, 1, 0]), "lavt");
    assert.deepEqual(rows.map((r) => [r.dataset, r.count, r.meanIoU, r.overallIoU]), [["d0", 2, 0.25, 1 / 6], ["d1", 1, 1, 1]]);
  });
});

describe("RES metric (CRIS's rule)", () => {
  it("thresholds are torch.arange(0.5, 1.0, 0.1) in float32, compared with a strict >", () => {
    assert.deepEqual(resThresholds("cris"), [0.5, 0.6000000238418579, 0.699999988079071, 0.800000011920929, 0.8999999761581421]);
    assert.equal(countsAt("cris", 0.5, 0.5), false);
    assert.equal(countsAt("lavt", 0.5, 0.5), true);
    // 0.6 is below float32(0.6), 0.7 above float32(0.7).
    assert.equal(countsAt("cris", 0.6, resThresholds("cris")[1]!), false);
    assert.equal(countsAt("cris", 0.7, resThresholds("cris")[2]!), true);
  });

  it("IoU = I / (U + 1e-6): with a large U, IoUs at 0.5 / 0.6 / 0.8 miss and 0.7 / 0.9 count", () => {
    const rows: [number, number][] = [[50000, 100000], [60000, 100000], [70000, 100000], [80000, 100000], [90000, 100000]];
    const [row] = resScores(input(rows), "cris");
    const f = (hits: number) => Math.fround(hits * Math.fround(1 / 5));
    // > 0.5: 0.6 0.7 0.8 0.9; > 0.6000000238: 0.7 0.8 0.9; > 0.6999999881: 0.7 0.8 0.9; > 0.8000000119: 0.9; > 0.8999999762: 0.9.
    assert.deepEqual(fractions(row!), [f(4), f(3), f(3), f(1), f(1)]);
    assert.equal(row!.meanIoU, rows.reduce((sum, [i, u]) => sum + i / (u + 1e-6), 0) * (1 / 5));
    assert.equal(row!.overallIoU, undefined, "CRIS has no cumulative IoU");
  });

  it("the eps decides at small U: 7 / 10 becomes 7 / (10 + 1e-6) < float32(0.7)", () => {
    assert.equal(expressionIoU("cris", 7, 10), 7 / (10 + 1e-6));
    assert.equal(countsAt("cris", expressionIoU("cris", 7, 10), resThresholds("cris")[2]!), false);
    assert.equal(expressionIoU("cris", 0, 0), 0);
  });

  it("precision is torch's float32 mean on the GPU: float32(hits x float32(1 / n)), 5 of 6 != float32(5 / 6)", () => {
    const [row] = resScores(input([[1, 1], [1, 1], [1, 1], [1, 1], [1, 1], [0, 1]]), "cris");
    const expected = Math.fround(5 * Math.fround(1 / 6));
    assert.equal(row!.precision[0]!.fraction, expected);
    assert.notEqual(expected, Math.fround(5 / 6));
  });
});

describe("RES metric: ReLA's generalized keys", () => {
  // Targeted 3/4 predicted; targeted predicted empty (U = 5); no-target predicted empty; no-target predicted (U = 6).
  const gres = input([[3, 4, 0, 0], [0, 5, 0, 1], [0, 0, 1, 1], [0, 6, 1, 0]]);

  it("gIoU, cIoU, N-acc and T-acc by hand", () => {
    const [row] = resScores(gres, "lavt");
    assert.deepEqual(row!.generalized, { gIoU: (0.75 + 0 + 1 + 0) / 4, cIoU: 3 / 15, nAcc: 1 / 2, tAcc: 1 / 2 });
    assert.equal(row!.meanIoU, 0.75 / 4, "no-target expressions score 0 in LAVT's mIoU");
    assert.equal(row!.overallIoU, row!.generalized!.cIoU);
  });

  it("the same keys with the cris variant", () => {
    const [row] = resScores(gres, "cris");
    assert.deepEqual(row!.generalized, { gIoU: 0.4375, cIoU: 0.2, nAcc: 0.5, tAcc: 0.5 });
  });

  it("only no-target expressions: T-acc is 0 (flagged); all predicted empty: cIoU 0 too", () => {
    const [row] = resScores(input([[0, 0, 1, 1], [0, 3, 1, 0]]), "lavt");
    assert.equal(row!.generalized!.tAcc, 0);
    assert.equal(row!.generalized!.nAcc, 0.5);
    assert.deepEqual(row!.undefinedCases, ["no-targeted"]);
    const [empty] = resScores(input([[0, 0, 1, 1]]), "lavt");
    assert.deepEqual(empty!.generalized, { gIoU: 1, cIoU: 0, nAcc: 1, tAcc: 0 });
    assert.deepEqual(empty!.undefinedCases.sort(), ["no-targeted", "sum-union-zero"]);
  });
});
