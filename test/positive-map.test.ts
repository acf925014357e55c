import assert from "node:assert/strict";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { charToToken, positiveTokens } from "../src/inference/positive-map.js";
import { loadTokenizer, type PromptTokenizer } from "../src/inference/tokenizer.js";
import { repoRoot } from "./helpers.js";

describe("positive tokens of a span (MDETR create_positive_map, GLIP create_positive_dict)", () => {
  let tokenizer: PromptTokenizer;
  before(async () => {
    tokenizer = await loadTokenizer(join(repoRoot, "examples/infer/tokenizer.json"));
  });
  const tokens = async (text: string, spans: [number, number][]) => positiveTokens(await tokenizer.encode(text), spans);

  it("char_to_token: specials and spaces never match, nor positions past the end or below 0", async () => {
    const prompt = await tokenizer.encode("bow ");
    assert.equal(charToToken(prompt, 0), 1);
    assert.equal(charToToken(prompt, 3), undefined, "the trailing space");
    assert.equal(charToToken(prompt, 4), undefined);
    assert.equal(charToToken(prompt, -1), undefined);
  });

  it("every token between the ends counts, lone-space tokens with an empty span too (sun  hat)", async () => {
    const prompt = await tokenizer.encode("sun  hat");
    const empty = prompt.offsets.map(([s, e], t) => (s === e && !prompt.special[t] ? t : -1)).filter((t) => t >= 0);
    assert.ok(empty.length > 0, "the double space gives a token with an empty span");
    const positive = await tokens("sun  hat", [[0, 8]]);
    for (const t of empty) assert.ok(positive.includes(t));
    assert.deepEqual(positive, Array.from({ length: positive.length }, (_, i) => positive[0]! + i), "a contiguous range");
  });

  it("a span ending on a space falls back to end - 2 (bow_(weapon) -> 'bow '), one starting on a space to begin + 1 (' robot')", async () => {
    const bow = await tokenizer.encode("bow ");
    assert.deepEqual(positiveTokens(bow, [[0, 4]]), [1, 2, 3]);
    const robot = await tokenizer.encode(" robot");
    assert.equal(charToToken(robot, 0), undefined, "the leading space");
    assert.deepEqual(positiveTokens(robot, [[0, 6]]), [1, 2, 3, 4]);
  });

  it("a span on spaces only, or whose ends cross, gives nothing; several spans unite", async () => {
    assert.deepEqual(await tokens("sun  hat", [[3, 5]]), []);
    assert.deepEqual(await tokens("x", [[0, 0]]), []);
    const both = await tokens("aerosol can. air conditioner. Bible", [[0, 11], [30, 35]]);
    const first = await tokens("aerosol can. air conditioner. Bible", [[0, 11]]);
    const last = await tokens("aerosol can. air conditioner. Bible", [[30, 35]]);
    assert.deepEqual(both, [...first, ...last]);
  });
});

describe("sigmoid box scores: the prompt's text tokens only", () => {
  it("a lone space's token (an empty span) and the specials do not score a box", async () => {
    const { allQueries } = await import("../src/inference/postprocess.js");
    // <s> "a" (lone space) "b" </s>, then padding: the highest logits sit on the specials and the space.
    const prompt = { text: "a  b", ids: [0, 1, 2, 3, 4], offsets: [[0, 0], [0, 1], [2, 2], [3, 4], [0, 0]] as [number, number][], special: [true, false, false, false, true] };
    const logits = Float32Array.from([9, 0.5, 8, -1, 9, 9]);
    const { scores } = allQueries({ boxes: Float32Array.from([0.5, 0.5, 0.2, 0.2]), logits, queries: 1, positions: 6 }, prompt, { width: 100, height: 100 }, "sigmoid");
    assert.equal(scores[0], 1 / (1 + Math.exp(-0.5)));
  });
});
