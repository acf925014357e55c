import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { firstMatchRank, refexpPrecision, type RefexpPrecisionInput, type RefexpPrecisionOptions } from "../src/metrics/refexp.js";
import { giouFloat32, iouFloat32 } from "../src/compat/torch-box-ops.js";
import { seeded } from "./helpers.js";

type Box = [number, number, number, number];
interface Expression {
  dataset?: string;
  target: Box;
  predictions: { box: Box; score: number }[];
}

/** Builds the metric's typed-array input from readable expressions (targets and boxes as xyxy). */
function input(expressions: Expression[]): RefexpPrecisionInput {
  const datasetNames = [...new Set(expressions.map((e) => e.dataset ?? "refcoco"))].sort();
  const all = expressions.flatMap((e) => e.predictions);
  const start = new Uint32Array(expressions.length);
  let at = 0;
  expressions.forEach((e, i) => {
    start[i] = at;
    at += e.predictions.length;
  });
  return {
    datasetNames,
    datasetOf: Uint32Array.from(expressions, (e) => datasetNames.indexOf(e.dataset ?? "refcoco")),
    targetBoxes: Float64Array.from(expressions.flatMap((e) => e.target)),
    start,
    count: Uint32Array.from(expressions, (e) => e.predictions.length),
    boxes: Float32Array.from(all.flatMap((p) => p.box)),
    scores: Float32Array.from(all, (p) => p.score),
  };
}

const iou05: RefexpPrecisionOptions = { k: [1, 5, 10], overlap: "iou", threshold: 0.5 };
const precisions = (rows: ReturnType<typeof refexpPrecision>) =>
  Object.fromEntries(rows.map((r) => [r.dataset, r.precisionAt.map((p) => p.precision)]));

const target: Box = [10, 10, 50, 50];
const far: Box = [200, 200, 260, 260];

describe("box overlap in float32 (util/box_ops.py)", () => {
  it("gives IoU and GIoU of simple boxes", () => {
    assert.equal(iouFloat32(0, 0, 10, 10, 0, 0, 10, 10), 1);
    assert.equal(iouFloat32(0, 0, 10, 10, 5, 0, 15, 10), Math.fround(50 / 150));
    assert.equal(iouFloat32(0, 0, 10, 10, 20, 0, 30, 10), 0);
    // Disjoint boxes: GIoU = 0 - (enclosing - union) / enclosing = -(300 - 200) / 300.
    assert.equal(giouFloat32(0, 0, 10, 10, 20, 0, 30, 10), Math.fround(-100 / 300));
  });

  it("gives NaN for two zero-area boxes, as torch does", () => {
    assert.ok(Number.isNaN(iouFloat32(5, 5, 5, 9, 5, 5, 5, 9)));
    assert.ok(Number.isNaN(giouFloat32(5, 5, 5, 9, 5, 5, 5, 9)));
  });
});

describe("refexp precision@k (datasets/refexp.py)", () => {
  it("is 1 at every k when the target box ranks first", () => {
    const rows = refexpPrecision(
      input([
        { target, predictions: [{ box: far, score: 0.2 }, { box: target, score: 0.9 }] },
        { dataset: "refcocog", target: far, predictions: [{ box: far, score: 0.5 }] },
      ]),
      iou05,
    );
    assert.deepEqual(precisions(rows), { refcoco: [1, 1, 1], refcocog: [1, 1, 1] });
    assert.deepEqual(rows.map((r) => r.count), [1, 1]);
  });

  it("counts an expression with no boxes as a miss", () => {
    const rows = refexpPrecision(input([{ target, predictions: [] }, { target, predictions: [{ box: target, score: 1 }] }]), iou05);
    assert.deepEqual(precisions(rows), { refcoco: [0.5, 0.5, 0.5] });
  });

  it("hits at k only when a matching box is within the top k", () => {
    const predictions = Array.from({ length: 7 }, (_, i) => ({ box: far, score: 1 - i / 10 }));
    predictions.push({ box: target, score: 0.25 }); // rank 7 (0-based)
    const rows = refexpPrecision(input([{ target, predictions }]), { ...iou05, k: [1, 5, 7, 8, 100] });
    assert.deepEqual(precisions(rows), { refcoco: [0, 0, 0, 1, 1] });
  });

  it("breaks score ties by the box, larger coordinates first (sorted((score, box), reverse=True))", () => {
    const hit: Box = [10, 10, 50, 50];
    const miss: Box = [300, 10, 340, 50]; // larger x1: sorts first among equal scores
    const forward = input([{ target, predictions: [{ box: hit, score: 0.5 }, { box: miss, score: 0.5 }] }]);
    const backward = input([{ target, predictions: [{ box: miss, score: 0.5 }, { box: hit, score: 0.5 }] }]);
    assert.equal(firstMatchRank(forward, 0, iou05), 1);
    assert.equal(firstMatchRank(backward, 0, iou05), 1);
    const hitBelow: Box = [0, 10, 40, 50]; // IoU 30*40/(2*1600-1200) = 0.6: a hit, but a smaller x1 sorts it after `far`
    const tied = input([{ target, predictions: [{ box: hitBelow, score: 0.5 }, { box: far, score: 0.5 }] }]);
    assert.equal(firstMatchRank(tied, 0, iou05), 1);
  });

  it("handles zero-width boxes: no overlap with a real target", () => {
    const rows = refexpPrecision(input([{ target, predictions: [{ box: [20, 20, 20, 40], score: 0.9 }, { box: target, score: 0.1 }] }]), iou05);
    assert.deepEqual(precisions(rows), { refcoco: [0, 1, 1] });
  });

  it("keeps the reference's NaN quirk: a NaN overlap of the top box misses at every k", () => {
    const degenerateTarget: Box = [5, 5, 5, 9];
    const at0 = { ...iou05, threshold: 0 };
    // Top box degenerate on the same line: IoU = 0/0. The second box has IoU 0 >= 0 and would hit.
    const nanFirst = input([{ target: degenerateTarget, predictions: [{ box: [5, 5, 5, 9], score: 0.9 }, { box: far, score: 0.1 }] }]);
    assert.deepEqual(precisions(refexpPrecision(nanFirst, at0)), { refcoco: [0, 0, 0] });
    // NaN further down is skipped by max(): the top box (IoU 0 >= 0) hits.
    const nanSecond = input([{ target: degenerateTarget, predictions: [{ box: far, score: 0.9 }, { box: [5, 5, 5, 9], score: 0.1 }] }]);
    assert.deepEqual(precisions(refexpPrecision(nanSecond, at0)), { refcoco: [1, 1, 1] });
  });

  it("decides borderline matches in float32, as torch does", () => {
    // In float64 this IoU is 0.49999999; in float32 the box rounds to 50 high and the IoU is 0.5.
    const rows = refexpPrecision(input([{ target: [0, 0, 100, 100], predictions: [{ box: [0, 0, 100, 49.999999], score: 1 }] }]), iou05);
    assert.deepEqual(precisions(rows), { refcoco: [1, 1, 1] });
  });

  it("matches on GIoU or IoU as asked, inclusive at the threshold", () => {
    const data = input([{ target, predictions: [{ box: [10, 10, 50, 34], score: 1 }] }]); // IoU 0.6, GIoU 0.6
    assert.deepEqual(precisions(refexpPrecision(data, { ...iou05, overlap: "giou" })), { refcoco: [1, 1, 1] });
    const apart = input([{ target, predictions: [{ box: [10, 10, 50, 30], score: 1 }] }]); // IoU 0.5
    assert.deepEqual(precisions(refexpPrecision(apart, iou05)), { refcoco: [1, 1, 1] });
  });

  it("takes a k larger than any expression's box count (no list of k is made)", () => {
    const data = input([{ target, predictions: [{ box: far, score: 0.9 }, { box: target, score: 0.1 }] }]);
    assert.deepEqual(precisions(refexpPrecision(data, { ...iou05, k: [1, 1e20] })), { refcoco: [0, 1] });
  });

  it("does not modify its input", () => {
    const data = input([{ target, predictions: [{ box: far, score: 0.3 }, { box: target, score: 0.2 }] }]);
    const before = JSON.stringify([...data.boxes, ...data.scores, ...data.targetBoxes]);
    refexpPrecision(data, iou05);
    assert.equal(JSON.stringify([...data.boxes, ...data.scores, ...data.targetBoxes]), before);
  });

  it("ranks only the top max(k) and gives what sorting every pair gives, ties and NaNs among them", () => {
    // The reference written out: sorted(zip(scores, boxes), reverse=True), then per k Python's max()
    // over the top k overlaps (a NaN first is kept, a later one never wins), compared >= threshold.
    const random = seeded(17);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    // Few scores and few boxes: equal scores, equal pairs, and zero-area boxes against a zero-area target.
    const scores = [0.9, 0.5, 0.5, 0.25, 0.1, Math.fround(0.3)];
    // ([300, 300, 300, 310] is zero-area and sorts first among equal scores: often the top box.)
    const shapes: Box[] = [[10, 10, 50, 50], [12, 10, 50, 52], [10, 10, 30, 50], [5, 5, 5, 9], [200, 200, 260, 260], [10, 30, 50, 50], [11, 11, 49, 49], [300, 300, 300, 310]];
    for (const overlap of ["iou", "giou"] as const) {
      for (const threshold of [0, 0.5]) {
        const expressions: Expression[] = Array.from({ length: 400 }, () => ({
          dataset: pick(["refcoco", "refcoco+"]),
          target: random() < 0.3 ? pick<Box>([[5, 5, 5, 9], [300, 300, 300, 310]]) : pick(shapes),
          predictions: Array.from({ length: Math.floor(random() * 30) }, () => ({ box: pick(shapes), score: pick(scores) })),
        }));
        const k = [1, 5, 10];
        const overlapOf = overlap === "giou" ? giouFloat32 : iouFloat32;
        const hits = new Map<string, number[]>();
        const totals = new Map<string, number>();
        for (const e of expressions) {
          const [t0, t1, t2, t3] = e.target.map((v) => Math.fround(v));
          const pairs = e.predictions.map((p) => ({ score: Math.fround(p.score), box: p.box.map((v) => Math.fround(v)) }));
          pairs.sort((a, b) => (a.score !== b.score ? b.score - a.score : b.box.map((v, c) => v - a.box[c]!).find((d) => d !== 0) ?? 0));
          const row = hits.get(e.dataset!) ?? [0, 0, 0];
          k.forEach((top, j) => {
            const values = pairs.slice(0, top).map((p) => overlapOf(p.box[0]!, p.box[1]!, p.box[2]!, p.box[3]!, t0!, t1!, t2!, t3!));
            let max = values[0];
            for (const v of values.slice(1)) if (v > max!) max = v;
            if (max !== undefined && max >= Math.fround(threshold)) row[j]!++;
          });
          hits.set(e.dataset!, row);
          totals.set(e.dataset!, (totals.get(e.dataset!) ?? 0) + 1);
        }
        const expected = Object.fromEntries([...hits].map(([d, row]) => [d, row.map((h) => h / totals.get(d)!)]));
        assert.deepEqual(precisions(refexpPrecision(input(expressions), { k, overlap, threshold })), expected, `${overlap} at ${threshold}`);
      }
    }
  });
});
