import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { detrSize } from "../src/inference/images.js";
import { roundHalfEven } from "../src/compat/python.js";
import { cmykToRgb } from "../src/compat/pil.js";
import { postprocessImage, spansOfTokens } from "../src/inference/postprocess.js";
import { phrasePrompt } from "../src/inference/prompts.js";
import type { EncodedPrompt } from "../src/inference/tokenizer.js";

describe("DETR's resize rule (datasets/transforms.py)", () => {
  it("makes the shorter side 800 and keeps the longer at most 1333", () => {
    assert.deepEqual(detrSize(640, 480), { width: 1066, height: 800 });
    assert.deepEqual(detrSize(480, 640), { width: 800, height: 1066 });
    assert.deepEqual(detrSize(30, 20), { width: 1200, height: 800 });
    assert.deepEqual(detrSize(1000, 800), { width: 1000, height: 800 });
    assert.deepEqual(detrSize(4000, 500), { width: 1336, height: 167 });
  });

  it("rounds half to even, as Python's round() does", () => {
    assert.deepEqual(detrSize(2666, 333), { width: 1328, height: 166 });
    assert.deepEqual([roundHalfEven(166.5), roundHalfEven(167.5), roundHalfEven(2.4), roundHalfEven(2.6)], [166, 168, 2, 3]);
  });
});

describe("CMYK to RGB as PIL's convert('RGB')", () => {
  it("gives Pillow's values", () => {
    // Expected values printed by Pillow: Image.frombytes("CMYK", ...).convert("RGB").
    const cmyk = [213, 210, 151, 0, 204, 190, 167, 0, 0, 0, 0, 255, 10, 20, 30, 40, 255, 255, 255, 0, 128, 64, 32, 200];
    assert.deepEqual([...cmykToRgb(Uint8Array.from(cmyk))], [42, 45, 104, 51, 65, 88, 0, 0, 0, 207, 198, 190, 0, 0, 0, 27, 41, 48]);
  });
});

/** A hand-made encoding of "a red cat sat" with <s> and </s>. */
const prompt: EncodedPrompt = {
  text: "a red cat sat",
  ids: [0, 10, 11, 12, 13, 2],
  offsets: [[0, 0], [0, 1], [2, 5], [6, 9], [10, 13], [0, 0]],
  special: [true, false, false, false, false, true],
};

describe("spans and phrases of tokens", () => {
  it("joins tokens separated only by whitespace, and keeps others apart", () => {
    assert.deepEqual(spansOfTokens(prompt, [2, 3]), { spans: [[2, 9]], phrase: "red cat" });
    assert.deepEqual(spansOfTokens(prompt, [1, 3]), { spans: [[0, 1], [6, 9]], phrase: "a cat" });
    const pieces: EncodedPrompt = { text: "remote control", ids: [0, 1, 2, 3, 2], offsets: [[0, 0], [0, 3], [3, 6], [7, 14], [0, 0]], special: [true, false, false, false, true] };
    assert.deepEqual(spansOfTokens(pieces, [1, 2, 3]), { spans: [[0, 14]], phrase: "remote control" });
  });

  it("counts offsets in code points", () => {
    const emoji: EncodedPrompt = { text: "😀 cat", ids: [0, 1, 2, 2], offsets: [[0, 0], [0, 1], [2, 5], [0, 0]], special: [true, false, false, true] };
    assert.deepEqual(spansOfTokens(emoji, [2]), { spans: [[2, 5]], phrase: "cat" });
  });

  it("builds GLIP-style phrase prompts with each phrase's span", () => {
    assert.deepEqual(phrasePrompt(["cat", "remote control"]), { text: "cat. remote control.", phrases: [{ text: "cat", span: [0, 3] }, { text: "remote control", span: [5, 19] }] });
  });
});

describe("postprocessing one image", () => {
  // Two queries, T = 8 positions (the last is MDETR's "no object").
  const positions = 8;
  const logits = new Float32Array(2 * positions);
  logits.set([0, 0, 0, 5, 0, 0, 0, 1], 0); // query 0 points at "cat" (position 3)
  logits.set([0, 0, 0, 0, 0, 0, 0, 6], positions); // query 1 is "no object"
  const outputs = { boxes: Float32Array.from([0.5, 0.5, 0.2, 0.4, 0.1, 0.1, 0.1, 0.1]), logits, queries: 2, positions };
  const size = { width: 200, height: 100 };

  it("mdetr scoring: 1 - P(no object), boxes in original pixels, spans from tokens over the threshold", () => {
    const detections = postprocessImage(outputs, prompt, size, { scoring: "mdetr", threshold: 0.7, tokenThreshold: 0.1 });
    const denominator = Math.exp(5) + Math.exp(1) + 6;
    assert.equal(detections.length, 1);
    assert.ok(Math.abs(detections[0]!.score - (1 - Math.exp(1) / denominator)) < 1e-6);
    assert.deepEqual(detections[0]!.bbox.map((v) => Math.round(v * 1000) / 1000), [80, 30, 120, 70]);
    assert.deepEqual([detections[0]!.spans, detections[0]!.phrase], [[[6, 9]], "cat"]);
  });

  it("sigmoid scoring: the best token's sigmoid, over the prompt's real tokens only", () => {
    const detections = postprocessImage(outputs, prompt, size, { scoring: "sigmoid", threshold: 0.7, tokenThreshold: 0.9 });
    assert.equal(detections.length, 1);
    assert.ok(Math.abs(detections[0]!.score - 1 / (1 + Math.exp(-5))) < 1e-6);
    assert.deepEqual(detections[0]!.spans, [[6, 9]]);
  });

  it("labels boxes with the best phrase under --phrases", () => {
    const phrases = [{ text: "red", span: [2, 5] as [number, number] }, { text: "cat", span: [6, 9] as [number, number] }];
    const detections = postprocessImage(outputs, prompt, size, { scoring: "mdetr", threshold: 0.7, tokenThreshold: 0.1, phrases });
    assert.equal(detections[0]!.phrase, "cat");
  });
});

describe("batchFeeds with reused buffers", () => {
  it("zeroes the padding and the mask outside each picture, whatever an earlier batch left there", async () => {
    const { batchFeeds, TensorBuffers } = await import("../src/inference/batch.js");
    const model = { inputTypes: new Map([["pixel_mask", "int64"]]), hasPixelMask: true, hasTokenTypeIds: false } as unknown as Parameters<typeof batchFeeds>[1];
    const prompt: EncodedPrompt = { ids: [0, 5, 2], text: "a", tokens: [], offsets: [] } as unknown as EncodedPrompt;
    const { MEAN, STD } = await import("../src/inference/images.js");
    // A uniform picture of byte `value`, normalised as images.ts does.
    const picture = (w: number, h: number, value: number) => {
      const planes = new Float32Array(3 * w * h);
      for (let c = 0; c < 3; c++) planes.fill((value / 255 - MEAN[c]!) / STD[c]!, c * w * h, (c + 1) * w * h);
      return { width: w, height: h, resized: { width: w, height: h, planes } };
    };
    const buffers = new TensorBuffers();
    // First two white 4x3 pictures, which fill both slots of the buffers.
    const white4x3 = picture(4, 3, 255);
    batchFeeds([{ image: white4x3, prompt }, { image: picture(4, 3, 255), prompt }], model, 1, buffers);
    // Then a batch of a 4x3 picture and a 2x2 one: the second is padded to 4x3.
    const feeds = batchFeeds([{ image: picture(4, 3, 0), prompt }, { image: picture(2, 2, 255), prompt }], model, 1, buffers);
    const pixels = feeds["pixel_values"]!.data as Float32Array;
    const mask = feeds["pixel_mask"]!.data as BigInt64Array;
    const plane = 12;
    const white = (1 - 0.485) / 0.229;
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < 3; y++) {
        for (let x = 0; x < 4; x++) {
          const inside = x < 2 && y < 2;
          const v = pixels[(3 + c) * plane + y * 4 + x]!;
          if (inside) assert.ok(Math.abs(v) > 1, `channel ${c} (${x}, ${y}) holds the picture`);
          else assert.equal(v, 0, `channel ${c} (${x}, ${y}) is padding`);
        }
      }
    }
    assert.ok(Math.abs(pixels[3 * plane]! - white) < 1e-6);
    assert.deepEqual([...mask.subarray(plane, 2 * plane)], [1n, 1n, 0n, 0n, 1n, 1n, 0n, 0n, 0n, 0n, 0n, 0n]);
    assert.deepEqual([...mask.subarray(0, plane)], Array.from({ length: plane }, () => 1n));
    // The same sizes again: the mask is not filled again, and still right.
    const again = batchFeeds([{ image: picture(4, 3, 9), prompt }, { image: picture(2, 2, 9), prompt }], model, 1, buffers);
    assert.deepEqual([...(again["pixel_mask"]!.data as BigInt64Array)], [...Array.from({ length: plane }, () => 1n), 1n, 1n, 0n, 0n, 1n, 1n, 0n, 0n, 0n, 0n, 0n, 0n]);
  });
});
