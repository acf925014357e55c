import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { evaluateLvis, type LvisGroundTruthColumns } from "../src/metrics/lvis/evaluate.js";
import type { Selection } from "../src/metrics/lvis/select.js";

type Box = [number, number, number, number];
interface Gt {
  image: number;
  category: number;
  bbox: Box;
  area?: number;
  id?: number;
}
interface Det {
  image: number;
  category: number;
  bbox: Box;
  score: number;
}

/** Precision is tp / (tp + fp + eps) in lvis-api, so a perfect one is 1 - 1e-16. */
function near(actual: number | undefined, expected: number): void {
  assert.ok(actual !== undefined && Math.abs(actual - expected) < 1e-9, `${actual} is not ${expected}`);
}

const standard: Selection = { protocol: "standard", maxDets: 300, detsPerCategory: 10000 };

/** Two images, three categories (rare, common, frequent); boxes as [x, y, w, h]. */
function evaluate(gts: Gt[], dets: Det[], options: { negative?: [number, number][]; notExhaustive?: [number, number][]; selection?: Selection } = {}) {
  const categoryCount = 3;
  const gt: LvisGroundTruthColumns = {
    imageCount: 2,
    categoryCount,
    frequency: Uint8Array.from([0, 1, 2]),
    negative: new Set((options.negative ?? []).map(([i, c]) => i * categoryCount + c)),
    notExhaustive: new Set((options.notExhaustive ?? []).map(([i, c]) => i * categoryCount + c)),
    annotations: {
      image: Int32Array.from(gts, (g) => g.image),
      category: Int32Array.from(gts, (g) => g.category),
      bbox: Float64Array.from(gts.flatMap((g) => g.bbox)),
      area: Float64Array.from(gts, (g) => g.area ?? g.bbox[2] * g.bbox[3]),
      id: Float64Array.from(gts, (g, i) => g.id ?? i + 1),
      ignore: new Uint8Array(gts.length),
    },
  };
  const columns = {
    image: Int32Array.from(dets, (d) => d.image),
    category: Int32Array.from(dets, (d) => d.category),
    bbox: Float64Array.from(dets.flatMap((d) => d.bbox)),
    score: Float64Array.from(dets, (d) => d.score),
    area: Float64Array.from(dets, (d) => d.bbox[2] * d.bbox[3]),
  };
  return evaluateLvis(gt, columns, options.selection ?? standard);
}

const A: Box = [0, 0, 100, 100];
const B: Box = [200, 200, 100, 100];
const far: Box = [500, 500, 50, 50];

describe("LVIS matching and accumulation (lvis/eval.py)", () => {
  it("gives AP 1 for perfect detections and leaves categories without ground truth out (-1)", () => {
    const { metrics, perCategory } = evaluate([{ image: 0, category: 2, bbox: A }], [{ image: 0, category: 2, bbox: A, score: 0.9 }]);
    near(metrics["AP"], 1);
    near(metrics["APf"], 1);
    assert.equal(metrics["APr"], -1);
    assert.equal(metrics["APc"], -1);
    assert.equal(metrics["APs"], -1); // a 100x100 box is large
    near(metrics["APl"], 1);
    assert.deepEqual(perCategory.map((p) => Math.round(p.ap * 1e9) / 1e9), [-1, -1, 1]);
  });

  it("matches greedily by score: a better-scored wrong box costs precision", () => {
    const { metrics } = evaluate([{ image: 0, category: 2, bbox: A }], [
      { image: 0, category: 2, bbox: far, score: 0.9 },
      { image: 0, category: 2, bbox: A, score: 0.8 },
    ]);
    // Recall 1 reached at the second detection, precision 1/2 from there on.
    near(metrics["AP"], 0.5);
  });

  it("breaks score ties by file order", () => {
    const gts = [{ image: 0, category: 2, bbox: A }];
    const wrongFirst = evaluate(gts, [{ image: 0, category: 2, bbox: far, score: 0.5 }, { image: 0, category: 2, bbox: A, score: 0.5 }]);
    const rightFirst = evaluate(gts, [{ image: 0, category: 2, bbox: A, score: 0.5 }, { image: 0, category: 2, bbox: far, score: 0.5 }]);
    near(wrongFirst.metrics["AP"], 0.5);
    near(rightFirst.metrics["AP"], 1);
  });

  it("drops detections of categories neither in the image nor in its neg_category_ids", () => {
    const gts = [{ image: 0, category: 2, bbox: A }];
    const dets = [{ image: 0, category: 2, bbox: A, score: 0.9 }, { image: 0, category: 1, bbox: B, score: 0.95 }];
    assert.equal(evaluate(gts, dets).perCategory[1]!.numDets, 0);
    // Listed as negative: the detection counts, as a false positive for a category without ground truth here.
    const withNegative = evaluate([...gts, { image: 1, category: 1, bbox: A }], dets, { negative: [[0, 1]] });
    assert.equal(withNegative.perCategory[1]!.numDets, 1);
    assert.equal(withNegative.perCategory[1]!.ap, 0);
  });

  it("ignores unmatched detections of a not-exhaustively annotated category", () => {
    const gts = [{ image: 0, category: 2, bbox: A }];
    const dets = [{ image: 0, category: 2, bbox: far, score: 0.9 }, { image: 0, category: 2, bbox: A, score: 0.8 }];
    near(evaluate(gts, dets, { notExhaustive: [[0, 2]] }).metrics["AP"], 1);
  });

  it("counts ground truth by its area field in the area ranges", () => {
    // A 100x100 box whose mask area is small: it counts for APs, not APl.
    const { metrics } = evaluate([{ image: 0, category: 2, bbox: A, area: 500 }], [{ image: 0, category: 2, bbox: A, score: 0.9 }]);
    near(metrics["APs"], 1);
    assert.equal(metrics["APl"], -1);
  });

  it("scores an image without detections as missed ground truth", () => {
    const { metrics } = evaluate([{ image: 0, category: 2, bbox: A }, { image: 1, category: 2, bbox: A }], [{ image: 0, category: 2, bbox: A, score: 0.9 }]);
    near(metrics["AR@300"], 0.5);
    assert.ok(Math.abs(metrics["AP"]! - 51 / 101) < 1e-12); // precision 1 up to recall 0.5, then 0
  });

  it("drops zero-area boxes, ground truth and detections alike (get_ann_ids keeps 0 < area)", () => {
    const { metrics, perCategory } = evaluate([{ image: 0, category: 2, bbox: A }, { image: 0, category: 2, bbox: B, area: 0 }], [
      { image: 0, category: 2, bbox: [0, 0, 0, 100], score: 0.99 },
      { image: 0, category: 2, bbox: A, score: 0.9 },
    ]);
    assert.equal(perCategory[2]!.numGt, 1);
    assert.equal(perCategory[2]!.numDets, 1);
    near(metrics["AP"], 1);
  });

  it("caps each image at max-dets before the category filter (standard)", () => {
    const filler = Array.from({ length: 3 }, () => ({ image: 0, category: 1, bbox: B, score: 0.99 }));
    const dets = [...filler, { image: 0, category: 2, bbox: A, score: 0.5 }];
    const capped = evaluate([{ image: 0, category: 2, bbox: A }], dets, { selection: { ...standard, maxDets: 3 } });
    // The three fillers (a category the image does not have) fill the cap, then get filtered out.
    assert.equal(capped.metrics["AP"], 0);
    near(evaluate([{ image: 0, category: 2, bbox: A }], dets, { selection: { ...standard, maxDets: 4 } }).metrics["AP"], 1);
  });

  it("keeps each category's best detections over the whole set (fixed)", () => {
    const gts = [{ image: 0, category: 2, bbox: A }, { image: 1, category: 2, bbox: A }];
    const dets = [{ image: 0, category: 2, bbox: A, score: 0.9 }, { image: 1, category: 2, bbox: A, score: 0.8 }];
    const fixed = (k: number) => evaluate(gts, dets, { selection: { protocol: "fixed", maxDets: 300, detsPerCategory: k } }).metrics;
    near(fixed(2)["AP"], 1);
    near(fixed(1)["AR@300"], 0.5);
  });

  it("reads a matched ground truth with id 0 as unmatched, as lvis-api does", () => {
    const { metrics } = evaluate([{ image: 0, category: 2, bbox: A, id: 0 }], [{ image: 0, category: 2, bbox: A, score: 0.9 }]);
    assert.equal(metrics["AP"], 0);
  });
});
