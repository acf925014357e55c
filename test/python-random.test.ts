import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { PythonRandom, seedKey } from "../src/compat/python-random.js";
import { fixtures, readJsonFile } from "./helpers.js";

// Known outputs of CPython 3.11's random (test/fixtures/cpython-random.json).
const known = readJsonFile(join(fixtures, "cpython-random.json")) as Record<string, unknown>;
const draws = (seed: bigint | number, n: number) => {
  const random = new PythonRandom(seed);
  return Array.from({ length: n }, () => random.getrandbits(32));
};

describe("CPython's random: MT19937 seeded by init_by_array", () => {
  it("random.seed(42); getrandbits(32) gives CPython's first five values", () => {
    assert.deepEqual(draws(42, 5), known["seed42_getrandbits32_first5"]);
  });

  it("seed 0, a seed of two 32-bit words, and a negative seed (its absolute value)", () => {
    assert.deepEqual(draws(0, 3), known["seed0_getrandbits32_first3"]);
    assert.deepEqual(draws(2n ** 32n + 1001n, 3), known["seed4294968297_getrandbits32_first3"]);
    assert.deepEqual(draws(-42, 3), known["seed_minus42_getrandbits32_first3"]);
  });

  it("the seed's key is |seed| as little-endian 32-bit words, at least one", () => {
    assert.deepEqual([...seedKey(0n)], [0]);
    assert.deepEqual([...seedKey(42n)], [42]);
    assert.deepEqual([...seedKey(-42n)], [42]);
    assert.deepEqual([...seedKey(2n ** 32n + 1001n)], [1001, 1]);
    assert.deepEqual([...seedKey(2n ** 64n)], [0, 0, 1]);
  });

  it("a seed of several words differs from its low word alone", () => {
    assert.notDeepEqual(draws(2n ** 32n + 1001n, 3), draws(1001, 3));
  });

  const choices = known["seed42_choice_range_n_first8"] as Record<string, number[]>;
  for (const [n, expected] of Object.entries(choices)) {
    it(`random.choice(range(${n})) x 8 after random.seed(42)`, () => {
      const random = new PythonRandom(42);
      assert.deepEqual(Array.from({ length: 8 }, () => random.choiceIndex(Number(n))), expected);
    });
  }

  it("_randbelow(n) draws n.bit_length() bits and rejects values >= n, even for n = 1", () => {
    // 42's first outputs: 2746317213 (high bit 1: rejected for n = 1), then 478163327 (high bit 0).
    const random = new PythonRandom(42);
    assert.equal(random.choiceIndex(1), 0);
    assert.equal(random.getrandbits(32), (known["seed42_getrandbits32_first5"] as number[])[2]);
    // n = 2^m takes m + 1 bits: for n = 8, 4 bits of 2746317213 = 10, rejected; 478163327 >>> 28 = 1.
    assert.equal(new PythonRandom(42).randbelow(8), 1);
  });

  it("getrandbits(k) is the high k bits of one output", () => {
    const first = (known["seed42_getrandbits32_first5"] as number[])[0]!;
    for (const k of [1, 5, 16, 31, 32]) assert.equal(new PythonRandom(42).getrandbits(k), Math.floor(first / 2 ** (32 - k)));
  });

  it("refuses what CPython cannot do", () => {
    assert.throws(() => new PythonRandom(1).choiceIndex(0), /empty sequence/);
    assert.throws(() => new PythonRandom(1).getrandbits(33), RangeError);
  });
});
