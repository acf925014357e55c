import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { colourGreedily, overlapGraph, type ColouringNode, type ColouringOptions } from "../src/merge/colouring.js";

const strict: ColouringOptions = { overlap: "giou", maxOverlap: 0.5, maxChars: 250, mdetrCompat: false };
const compat: ColouringOptions = { overlap: "iou", maxOverlap: 0.5, maxChars: 250, mdetrCompat: true };

/** A node with xyxy boxes and a caption of the given length (ending in '.' unless said otherwise). */
function node(boxes: number[][], captionLength = 10, endsSentence = true): ColouringNode {
  return { boxes: Float32Array.from(boxes.flat()), captionLength, endsSentence };
}
const A = [0, 0, 10, 10];
const B = [100, 100, 110, 110];
const colour = (nodes: ColouringNode[], options: ColouringOptions) => colourGreedily(nodes, overlapGraph(nodes, options), options);

describe("overlap graph", () => {
  it("joins datapoints whose boxes overlap by more than the threshold, over all box pairs", () => {
    const nodes = [node([A, B]), node([[100, 100, 110, 112]]), node([[50, 50, 60, 60]])];
    assert.deepEqual(overlapGraph(nodes, strict), [[1], [0], []]);
  });

  it("measures GIoU or IoU as asked", () => {
    // IoU of [0,0,10,10] and [0,0,10,19] = 100/190 = 0.526, and GIoU the same (one box holds the other).
    assert.deepEqual(overlapGraph([node([A]), node([[0, 0, 10, 19]])], { ...strict, overlap: "iou" }), [[1], [0]]);
    // Corners touching by 1x1: IoU = 1/199 > 0, but GIoU = IoU - (361 - 199) / 361 < 0.
    const corners = [node([[0, 0, 10, 10]]), node([[9, 9, 19, 19]])];
    assert.deepEqual(overlapGraph(corners, { ...strict, overlap: "iou", maxOverlap: 0 }), [[1], [0]]);
    assert.deepEqual(overlapGraph(corners, { ...strict, overlap: "giou", maxOverlap: 0 }), [[], []]);
  });

  it("gives no edge to datapoints without boxes", () => {
    assert.deepEqual(overlapGraph([node([]), node([A])], strict), [[], []]);
  });

  it("--mdetr-compat: two zero-area boxes make the pair's maximum NaN, so no edge at all", () => {
    const line = [5, 5, 5, 9];
    const nodes = [node([A, line]), node([A, line])]; // A and A overlap fully, but line/line is NaN
    assert.deepEqual(overlapGraph(nodes, compat), [[], []]);
    // The default reads the NaN as 0: the full overlap of A with A still makes an edge.
    assert.deepEqual(overlapGraph(nodes, strict), [[1], [0]]);
  });
});

describe("greedy colouring", () => {
  it("colours by descending degree, then descending index, with the smallest free colour", () => {
    // 0-1 and 0-2 conflict: node 0 (degree 2) first, then 2 before 1 (equal degree, higher index).
    const nodes = [node([A]), node([[0, 0, 10, 11]]), node([[0, 0, 11, 10]])];
    const graph = [[1, 2], [0], [0]];
    assert.deepEqual(colourGreedily(nodes, graph, strict), [[0], [2, 1]]);
    // Without conflicts, equal degrees: highest index first, all in colour 0.
    assert.deepEqual(colourGreedily(nodes, [[], [], []], strict), [[2, 1, 0]]);
  });

  it("strict length rule: a combined caption of exactly max-chars fits, one more does not", () => {
    // Two captions of 124 characters ending in '.': 124 + 1 + 124 = 249; a third of 0 cannot fit.
    const fits = [node([A], 124), node([B], 125)];
    assert.deepEqual(colour(fits, strict), [[1, 0]]); // 125 + 1 + 124 = 250
    const over = [node([A], 125), node([B], 125)];
    assert.deepEqual(colour(over, strict), [[1], [0]]); // 251
    // A caption without final punctuation gets a '.' that counts.
    const punctuation = [node([A], 124, false), node([B], 125)];
    assert.deepEqual(colour(punctuation, strict), [[1], [0]]);
  });

  it("--mdetr-compat length rule: raw lengths so far + this length + 2 <= 250", () => {
    assert.deepEqual(colour([node([A], 124), node([B], 124)], compat), [[1, 0]]); // 124 + 124 + 2 = 250
    assert.deepEqual(colour([node([A], 124), node([B], 125)], compat), [[1], [0]]); // 251
  });

  it("a caption longer than the limit on its own becomes a datapoint of its own", () => {
    for (const options of [strict, compat]) {
      const nodes = [node([A], 300), node([B], 10), node([[200, 200, 210, 210]], 10)];
      assert.deepEqual(colour(nodes, options), [[2, 1], [0]]);
      assert.deepEqual(colour([node([A], 300)], options), [[0]]);
    }
  });

  it("never gives two conflicting datapoints the same colour", () => {
    const nodes = Array.from({ length: 30 }, (_, i) => node([[i % 5, 0, (i % 5) + 10, 10]], 5 + (i % 7)));
    const graph = overlapGraph(nodes, strict);
    const classes = colourGreedily(nodes, graph, strict);
    const colourOf = new Map(classes.flatMap((members, c) => members.map((m) => [m, c] as const)));
    graph.forEach((neighbours, i) => neighbours.forEach((j) => assert.notEqual(colourOf.get(i), colourOf.get(j))));
    assert.equal(colourOf.size, 30);
  });
});
