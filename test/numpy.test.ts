import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { addReduce, addReduceOf } from "../src/compat/numpy.js";
import { fixtures, readJsonFile } from "./helpers.js";

interface Known {
  sum: number;
  mean: number | null;
}
// Runs summed by numpy itself (test/fixtures/numpy/pairwise-sum.py wrote the file).
const known = readJsonFile(join(fixtures, "numpy", "pairwise-sum.json")) as {
  written: (Known & { values: number[] })[];
  lcg: (Known & { n: number; seed: number; scale: number })[];
};

/** The script's generator: exact integer steps, then one division and one multiplication. */
function generated(n: number, seed: number, scale: number): Float64Array {
  const out = new Float64Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (1664525 * x + 1013904223) % 2 ** 32;
    out[i] = (x / 2 ** 32) * scale;
  }
  return out;
}

const runs = (): { run: Float64Array; sum: number; mean: number | null }[] => [
  ...known.written.map(({ values, sum, mean }) => ({ run: Float64Array.from(values), sum, mean })),
  ...known.lcg.map(({ n, seed, scale, sum, mean }) => ({ run: generated(n, seed, scale), sum, mean })),
];

describe("numpy's float64 sum (np.add.reduce, np.mean): chunks of 8,192, each pairwise", () => {
  it("gives numpy's doubles, bit for bit, around its block and chunk sizes and at LVIS's 1.2 M", () => {
    for (const { run, sum, mean } of runs()) {
      assert.equal(addReduce(run, 0, run.length), sum, `n = ${run.length}`);
      if (mean !== null) assert.equal(addReduce(run, 0, run.length) / run.length, mean, `mean, n = ${run.length}`);
    }
  });

  it("sums a run inside a longer array as that run alone", () => {
    for (const { run, sum } of runs().slice(0, 40)) {
      const padded = Float64Array.from([7, 1e300, ...run, -3]);
      assert.equal(addReduce(padded, 2, run.length), sum, `n = ${run.length}`);
    }
  });

  it("sums a run handed over chunk by chunk as the run in memory", () => {
    for (const { run, sum } of runs()) {
      const filled = addReduceOf(run.length, (chunk, start, length) => chunk.set(run.subarray(start, start + length)));
      assert.equal(filled, sum, `n = ${run.length}`);
    }
  });

  it("differs from summing one value after another where numpy does (so the test can tell)", () => {
    const differing = runs().filter(({ run, sum }) => run.reduce((a, b) => a + b, 0) !== sum);
    assert.ok(differing.length > 10);
  });
});
