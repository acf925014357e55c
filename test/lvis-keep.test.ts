import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { boxAreas, type BoxDetections, type DetectionColumns, type LvisGroundTruthColumns } from "../src/metrics/lvis/columns.js";
import { evaluateLvis } from "../src/metrics/lvis/evaluate.js";
import { LvisKeeper } from "../src/metrics/lvis/keep.js";

/** mulberry32, so every run sees the same cases. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Case {
  gt: LvisGroundTruthColumns;
  /** D, image by image in image order: per image, per category (prompt), Q queries. */
  all: BoxDetections;
}

function makeCase(random: () => number, images: number, categories: number, queries: number): Case {
  const box = () => {
    const w = 5 + Math.floor(random() * 60);
    const h = 5 + Math.floor(random() * 60);
    return [Math.floor(random() * 100), Math.floor(random() * 100), w, h];
  };
  const gtImage: number[] = [];
  const gtCategory: number[] = [];
  const gtBox: number[][] = [];
  const negative = new Set<number>();
  const notExhaustive = new Set<number>();
  for (let i = 0; i < images; i++) {
    for (let c = 0; c < categories; c++) {
      const r = random();
      if (r < 0.35) for (let a = 1 + Math.floor(random() * 3); a > 0; a--) (gtImage.push(i), gtCategory.push(c), gtBox.push(box()));
      else if (r < 0.6) negative.add(i * categories + c);
      if (random() < 0.1) notExhaustive.add(i * categories + c);
    }
  }
  const image: number[] = [];
  const category: number[] = [];
  const bbox: number[] = [];
  const score: number[] = [];
  for (let i = 0; i < images; i++) {
    for (let c = 0; c < categories; c++) {
      for (let q = 0; q < queries; q++) {
        image.push(i);
        category.push(c);
        // Near a ground-truth box half the time, so that matches happen.
        const g = gtBox.findIndex((_, k) => gtImage[k] === i && gtCategory[k] === c);
        const b = g >= 0 && random() < 0.5 ? gtBox[g]!.map((v) => v + Math.floor(random() * 5)) : box();
        bbox.push(...b);
        // One decimal: many ties, within and across images and categories.
        score.push(Math.round(random() * 10) / 10);
      }
    }
  }
  return {
    gt: {
      imageCount: images,
      categoryCount: categories,
      frequency: Uint8Array.from({ length: categories }, (_, c) => c % 3),
      negative,
      notExhaustive,
      annotations: {
        image: Int32Array.from(gtImage),
        category: Int32Array.from(gtCategory),
        bbox: Float64Array.from(gtBox.flat()),
        area: Float64Array.from(gtBox, (b) => b[2]! * b[3]!),
        id: Float64Array.from(gtImage, (_, k) => k + 1),
        ignore: new Uint8Array(gtImage.length),
      },
    },
    all: { image: Int32Array.from(image), category: Int32Array.from(category), bbox: Float64Array.from(bbox), score: Float64Array.from(score) },
  };
}

/** LVISResults gives box detections the area w * h. */
function withArea(dets: BoxDetections): DetectionColumns {
  return { ...dets, area: boxAreas(dets.bbox) };
}

function keep(all: BoxDetections, categories: number, maxDetsPerImage: number, topkPerCategory: number): BoxDetections {
  const keeper = new LvisKeeper(categories, { maxDetsPerImage, topkPerCategory });
  let start = 0;
  while (start < all.image.length) {
    let end = start;
    while (end < all.image.length && all.image[end] === all.image[start]) end++;
    keeper.addImage(all.image[start]!, { category: all.category.subarray(start, end), bbox: all.bbox.subarray(4 * start, 4 * end), score: all.score.subarray(start, end) });
    start = end;
  }
  return keeper.result();
}

/** The rule written out plainly: sort, cut, unite, in D's order. */
function keptIndices(all: BoxDetections, maxDetsPerImage: number, topkPerCategory: number): number[] {
  const best = (members: number[], limit: number) => (limit < 0 ? members : [...members].sort((a, b) => all.score[b]! - all.score[a]! || a - b).slice(0, limit));
  const by = (key: Int32Array) => {
    const groups = new Map<number, number[]>();
    key.forEach((k, d) => groups.set(k, [...(groups.get(k) ?? []), d]));
    return [...groups.values()];
  };
  const kept = new Set<number>();
  for (const members of by(all.image)) for (const d of best(members, maxDetsPerImage)) kept.add(d);
  for (const members of by(all.category)) for (const d of best(members, topkPerCategory)) kept.add(d);
  return [...kept].sort((a, b) => a - b);
}

function pick(all: BoxDetections, indices: number[]): BoxDetections {
  return {
    image: Int32Array.from(indices, (d) => all.image[d]!),
    category: Int32Array.from(indices, (d) => all.category[d]!),
    bbox: Float64Array.from(indices.flatMap((d) => [...all.bbox.subarray(4 * d, 4 * d + 4)])),
    score: Float64Array.from(indices, (d) => all.score[d]!),
  };
}

describe("LVIS keeping rule: per image top M, per category top K, over all detections", () => {
  const caps: [number, number][] = [[7, 11], [3, 40], [20, 5], [-1, 9], [0, 13], [12, 0], [1000, 1000]];
  for (const [seed, [m, k]] of caps.entries()) {
    it(`M = ${m}, K = ${k}: the kept detections are the rule's, in D's order, and score like D in both protocols`, () => {
      const { gt, all } = makeCase(seeded(seed + 1), 14, 6, 5);
      const kept = keep(all, gt.categoryCount, m, k);
      assert.deepEqual(kept, pick(all, keptIndices(all, m, k)));
      if (m !== 0 && k !== 0) {
        const standard = { protocol: "standard" as const, maxDets: m, detsPerCategory: k };
        const fixed = { protocol: "fixed" as const, maxDets: m, detsPerCategory: k };
        assert.deepEqual(evaluateLvis(gt, withArea(kept), standard).metrics, evaluateLvis(gt, withArea(all), standard).metrics);
        assert.deepEqual(evaluateLvis(gt, withArea(kept), fixed).metrics, evaluateLvis(gt, withArea(all), fixed).metrics);
      }
    });
  }

  it("with the caps at their defaults' scale, far fewer detections are kept than given", () => {
    const { gt, all } = makeCase(seeded(99), 30, 8, 40);
    const kept = keep(all, gt.categoryCount, 10, 25);
    assert.ok(kept.score.length < all.score.length / 4);
    assert.deepEqual(evaluateLvis(gt, withArea(kept), { protocol: "fixed", maxDets: 10, detsPerCategory: 25 }).metrics, evaluateLvis(gt, withArea(all), { protocol: "fixed", maxDets: 10, detsPerCategory: 25 }).metrics);
  });
});
