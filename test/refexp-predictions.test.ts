import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { readBoxPredictions, type BoxPredictions } from "../src/formats/refexp/predictions.js";
import { InputError } from "../src/core/errors.js";
import { REPEATED_KEY } from "../src/json/selectors.js";
import { assertSameRefusal, readWithBothEngines, seeded } from "./helpers.js";

/** Image ids 0..9 are the expressions 0..9; other ids are unknown. */
const indexOfImageId = new Map(Array.from({ length: 10 }, (_, e) => [String(e), e]));

/** Each expression's boxes and scores, wherever the reader put them (engines visit in other orders). */
function byExpression(p: BoxPredictions) {
  return Array.from({ length: p.count.length }, (_, e) => ({
    listed: p.listed[e],
    boxes: Array.from(p.boxes.subarray(4 * p.start[e]!, 4 * (p.start[e]! + p.count[e]!))),
    scores: Array.from(p.scores.subarray(p.start[e]!, p.start[e]! + p.count[e]!)),
  }));
}

const both = (text: string | Buffer, batchBytes: number) => readWithBothEngines("pred.json", text, batchBytes, (file, settings) => readBoxPredictions(file, indexOfImageId, settings));

describe("refexp predictions: the fast path keeps what the parser would", () => {
  // `ID` is replaced by each member's key: a dict's keys are distinct.
  const odd = [
    '"ID":{"boxes":[[1,2,3,4],[0.5,1e1,20,1.5e1]],"scores":[0.5,0.25]}',
    ' "ID" : {\n "scores" : [ 1 ] , "extra": {"a": [1, "é\\u00e9"]}, "boxes" : [ [ 186.2591094970703 , 305.92962646484375 , 295.7536926269531 , 327.9977111816406 ] ] }',
    '"ID":{"boxes":[],"scores":[]}',
    '"ID":{"boxes":[[1,2,3,4]],"scores":[123456789012345678901234567890]}',
    '"ID":{"boxes":[[1,2,3,4]],"scores":[0.5],"boxes":[[5,6,7,8]]}',
    '"ID":{"boxes":[[3,2,1,4]],"scores":[0.5]}',
  ];

  it("odd but valid entries, known and unknown ids, at every batch size (pieces cut members anywhere)", async () => {
    const random = seeded(21);
    // Keys 0..9 known; the rest unknown, some written with an escape (left to the parser).
    const members = Array.from({ length: 200 }, (_, k) => {
      const template = odd[Math.floor(random() * odd.length)]!;
      const known = k < 10 && !template.includes("[3,2,1,4]");
      // Unknown ids descend through the file: JSON.parse visits them ascending.
      const id = known ? String(k) : String(5000 - k);
      return template.replace("ID", k % 7 === 3 ? `\\u003${id[0]}${id.slice(1)}` : id);
    });
    const text = `{${members.join(",")}}`;
    for (const batchBytes of [3, 8, 17, 64, 300, 1 << 20]) {
      const { parse, split } = await both(text, batchBytes);
      assert.ok(parse.ok && split.ok, String(batchBytes));
      assert.equal(split.value.format, "mdetr-dict");
      assert.deepEqual(byExpression(split.value), byExpression(parse.value), `at batch ${batchBytes}`);
      // The examples are the smallest unknown ids, whatever order the engine met them in.
      assert.deepEqual(split.value.unknownImageIds, parse.value.unknownImageIds);
    }
  });

  it("refuses what the parser refuses, with the same message, naming the member", async () => {
    const good = (id: number) => `"${id}":{"boxes":[[1,2,3,4]],"scores":[0.5]}`;
    const bad = [
      '"x1":{"boxes":[[1,2,3,4]],"scores":[0.5]}',
      '"3":{"boxes":[[1,2,3]],"scores":[0.5]}',
      '"3":{"boxes":[[1,2,3,4]],"scores":[0.5,0.6]}',
      '"3":{"boxes":[[3,2,1,4]],"scores":[0.5]}',
      '"3":{"boxes":[[1,2,3,4]],"scores":[1e400]}',
      '"3":{"boxes":[[1,2,3,4]]}',
      '"3":{"boxes":[[1,2,3,4]],"scores":["0.5"]}',
      '"3":[[1,2,3,4]]',
    ];
    for (const member of bad) {
      for (const batchBytes of [5, 1 << 20]) {
        assertSameRefusal(await both(`{${good(0)},${good(1)},${member},${good(2)}}`, batchBytes), member, /pred\.json: (x1|\["3"\])[.:]/);
      }
    }
  });

  it("refuses a repeated key at every batch size, naming it, as the streaming engines do", async () => {
    const entry = '{"boxes":[[1,2,3,4]],"scores":[0.5]}';
    for (const batchBytes of [3, 17, 1 << 20]) {
      const { split } = await both(`{"1":${entry},"2":${entry},"1":${entry}}`, batchBytes);
      assert.ok(!split.ok && split.error instanceof InputError, String(batchBytes));
      assert.ok(split.error.message.endsWith(`pred.json: ["1"]: ${REPEATED_KEY}`), split.error.message);
    }
  });

  it("odd but valid COCO results, interleaved images, at every batch size", async () => {
    const odd = [
      '{"image_id":ID,"bbox":[1,2,3,4],"score":0.5}',
      ' {\n "score" : 0.25 ,\t"bbox" : [ 0.5 , 1e1 , 0 , -0 ] , "category_id":1 , "image_id":ID }',
      '{"image_id":ID.0,"bbox":[186.2591094970703,305.92962646484375,95.7536926269531,27.9977111816406],"score":1e-3,"segmentation":{"counts":"é\\u00e9"}}',
      '{"im\\u0061ge_id":ID,"bbox":[1,2,3,4],"score":0.2}',
      '{"image_id":ID,"bbox":[1,2,3,4],"score":0.2,"score":0.9}',
      '{"image_id":ID,"bbox":[1,2,3,4],"score":123456789012345678901234567890}',
    ];
    const random = seeded(23);
    const elements = Array.from({ length: 300 }, () => odd[Math.floor(random() * odd.length)]!.replace("ID", String(Math.floor(random() * 14))));
    for (const batchBytes of [3, 8, 17, 64, 300, 1 << 20]) {
      const { parse, split } = await both(`[${elements.join(",")}]`, batchBytes);
      assert.ok(parse.ok && split.ok, String(batchBytes));
      assert.equal(split.value.format, "coco-results");
      assert.deepEqual(byExpression(split.value), byExpression(parse.value), `at batch ${batchBytes}`);
      assert.deepEqual(split.value.unknownImageIds, parse.value.unknownImageIds);
    }
  });

  it("refuses bad COCO results as the parser does, naming the element", async () => {
    const good = '{"image_id":1,"bbox":[1,2,3,4],"score":0.5}';
    const bad = [
      '{"image_id":1.5,"bbox":[1,2,3,4],"score":0.5}',
      '{"image_id":1,"bbox":[1,2,3],"score":0.5}',
      '{"image_id":1,"bbox":[1,2,-3,4],"score":0.5}',
      '{"image_id":1,"bbox":[1,2,3,4],"score":1e400}',
      '{"image_id":1,"bbox":[1,2,3,4]}',
      '{"image_id":"1","bbox":[1,2,3,4],"score":0.5}',
    ];
    for (const element of bad) {
      for (const batchBytes of [5, 1 << 20]) assertSameRefusal(await both(`[${good},${good},${element},${good}]`, batchBytes), element, /pred\.json: \[2\]/);
    }
  });
});
