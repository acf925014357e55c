import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { codePoints, isAlphanumeric } from "../src/compat/python.js";
import { consolidateSpans, shiftSpans, type Span } from "../src/merge/spans.js";
import { combineMembers, withFinalPunctuation } from "../src/merge/combine.js";

const consolidate = (spans: Span[], caption: string) => consolidateSpans(spans, codePoints(caption));

describe("span consolidation (scripts/utils/spans.py)", () => {
  it("merges overlapping spans but keeps touching ones apart", () => {
    const caption = "a red car and a blue bus ";
    assert.deepEqual(consolidate([[2, 9], [6, 13]], caption), [[2, 13]]);
    assert.deepEqual(consolidate([[2, 5], [5, 9]], caption), [[2, 5], [6, 9]]);
    assert.deepEqual(consolidate([[16, 24], [2, 9]], caption), [[2, 9], [16, 24]]);
  });

  it("trims punctuation and spaces at both edges", () => {
    const caption = 'the "red car", left. ';
    assert.deepEqual(consolidate([[4, 14]], caption), [[5, 12]]);
    assert.deepEqual(consolidate([[13, 21]], caption), [[15, 19]]);
  });

  it("extends spans to whole hyphenated words, on both sides", () => {
    const caption = "a half-eaten x-ray sandwich. ";
    assert.deepEqual(consolidate([[2, 6]], caption), [[2, 12]]); // "half" -> "half-eaten"
    assert.deepEqual(consolidate([[7, 12]], caption), [[2, 12]]); // "eaten" -> "half-eaten"
    assert.deepEqual(consolidate([[15, 18]], caption), [[13, 18]]); // "ray" -> "x-ray"
    // A hyphenated word at the very end, with no space after it: to the end of the caption.
    assert.deepEqual(consolidate([[0, 1]], "x-ray"), [[0, 5]]);
  });

  it("clips ends past the caption and drops spans with nothing left", () => {
    assert.deepEqual(consolidate([[0, 99]], "a cat. "), [[0, 5]]);
    assert.deepEqual(consolidate([[1, 2]], "a cat. "), []);
    assert.deepEqual(consolidate([[3, 3]], "a cat. "), []);
  });

  it("counts code points, as Python does, and knows alphanumerics of any script", () => {
    const caption = "😀 café 北京 ";
    assert.deepEqual(consolidate([[0, 7]], caption), [[2, 6]]);
    assert.deepEqual(consolidate([[7, 9]], caption), [[7, 9]]);
    assert.ok(isAlphanumeric("é") && isAlphanumeric("北") && isAlphanumeric("²") && !isAlphanumeric("-") && !isAlphanumeric("😀"));
  });

  it("shifts without modifying its input", () => {
    const spans: Span[] = [[1, 2]];
    assert.deepEqual(shiftSpans(spans, 5), [[6, 7]]);
    assert.deepEqual(spans, [[1, 2]]);
  });
});

describe("combining captions", () => {
  it("joins with spaces, adds '.' where a caption lacks final punctuation, and shifts spans", () => {
    const combined = combineMembers([
      { caption: "a red car", tokensNegative: [[0, 9]], annotationSpans: [[[2, 9]]] },
      { caption: "is it blue?", tokensNegative: [[0, 11]], annotationSpans: [[[6, 10]], []] },
    ]);
    assert.equal(combined.caption, "a red car. is it blue?");
    assert.deepEqual(combined.tokensNegative, [[0, 9], [11, 21]]);
    assert.deepEqual(combined.tokensPositive, [[[[2, 9]]], [[[17, 21]], []]]);
    assert.equal(withFinalPunctuation("why?"), "why?");
  });
});
