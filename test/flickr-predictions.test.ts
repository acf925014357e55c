/**
 * The byte-level fast path for Flickr30k predictions (predictionDecoder) against the parse engine:
 * the same predictions, in the same order, with the same `[index]`, at every batch size, and the
 * same errors for what the visitor refuses.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ByteCursor } from "../src/json/byte-cursor.js";
import { InputError } from "../src/core/errors.js";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { readFlickrPredictions, streamFlickrPredictions } from "../src/formats/flickr30k/predictions.js";
import { assertSameRefusal, readWithBothEngines, seeded, tempDir } from "./helpers.js";

const both = (text: string | Buffer, batchBytes: number) => readWithBothEngines("pred.json", text, batchBytes, readFlickrPredictions);

/** Predictions as plain values (typed arrays as arrays, -0 kept), for deepEqual. */
const plain = (predictions: Awaited<ReturnType<typeof readFlickrPredictions>>) => predictions.map((p) => ({ ...p, boxes: p.boxes.map((b) => Array.from(b)) }));

describe("ByteCursor strings and box lists", () => {
  const cursor = (text: string) => {
    const c = new ByteCursor();
    c.at(Buffer.from(text, "utf8"), 0);
    return c;
  };

  it("reads plain ASCII strings and refuses escapes, control characters and non-ASCII", () => {
    const c = cursor(' "1000092795",');
    assert.equal(c.asciiString(), "1000092795");
    assert.equal(c.pos, 13);
    for (const text of ['"a\\"b"', '"a\u0001"', '"é"', '"a', "12", '"\u007f"']) assert.equal(cursor(text).asciiString(), undefined, text);
    assert.equal(cursor('""').asciiString(), "");
  });

  it("reads any number of 4-number boxes, growing its buffer, and refuses other shapes", () => {
    const boxes = Array.from({ length: 300 }, (_, i) => [i, i + 0.5, -i, 1e-7 * i]);
    const c = cursor(JSON.stringify(boxes));
    assert.equal(c.boxList(), 300);
    assert.deepEqual(Array.from(c.boxes.subarray(0, 1200)), (JSON.parse(JSON.stringify(boxes)) as number[][]).flat());
    assert.equal(cursor(" [ ] ").boxList(), 0);
    assert.equal(cursor("[ [1, 2, 3, 4] , [5,6,7,8]]").boxList(), 2);
    for (const bad of ["[[-]]", "[[1.,2,3,4]]", "[[01,2,3,4]]", "[[1e,2,3,4]]", "[[+1,2,3,4]]", "[[1,2,3]]", "[[1,2,3,4,5]]", "[[1,2,3,4],]", "[[1,2,3,1e400]]", '[["1",2,3,4]]', "[[1,2,3,4]", "[1,2,3,4]", "{}"]) assert.equal(cursor(bad).boxList(), -1, bad);
  });
});

describe("ByteCursor box lists read numbers as JSON.parse does", () => {
  it("random decimals, exponents and spacing, bit for bit", () => {
    const random = seeded(21);
    const number = () => {
      const digits = 1 + Math.floor(random() * 19);
      let text = String(1 + Math.floor(random() * 9));
      for (let d = 1; d < digits; d++) text += String(Math.floor(random() * 10));
      const dot = Math.floor(random() * (digits + 1));
      if (dot > 0 && dot < digits) text = `${text.slice(0, dot)}.${text.slice(dot)}`;
      if (random() < 0.2) text = `0.${"0".repeat(Math.floor(random() * 25))}${text.replace(".", "")}`;
      if (random() < 0.2) text += `${random() < 0.5 ? "e" : "E"}${["", "-", "+"][Math.floor(random() * 3)]}${Math.floor(random() * 40)}`;
      if (random() < 0.1) text = "0";
      return random() < 0.5 ? `-${text}` : text;
    };
    const space = () => [" ", "", "\n", "\t ", ""][Math.floor(random() * 5)]!;
    for (let k = 0; k < 500; k++) {
      const boxes = Array.from({ length: 1 + Math.floor(random() * 30) }, () => `${space()}[${Array.from({ length: 4 }, () => `${space()}${number()}${space()}`).join(",")}]${space()}`);
      const text = `[${boxes.join(",")}]`;
      const c = new ByteCursor();
      c.at(Buffer.from(text, "latin1"), 0);
      const count = c.boxList();
      const expected = (JSON.parse(text) as number[][]).flat();
      assert.equal(count, boxes.length, text);
      assert.equal(c.pos, text.length);
      expected.forEach((value, i) => assert.ok(Object.is(c.boxes[i], value), `${text}: [${i}]`));
    }
  });
});

describe("Flickr30k predictions: the fast path keeps what the parser would", () => {
  const odd = [
    '{"image_id":"1000092795","sentence_id":0,"boxes":[[[1,2,3,4],[5.5,6,7,8]],[[0.1,0.2,0.3,0.4]]]}',
    ' {\n "boxes" : [ [ [ 1e1 , 2E-1 , -0 , 4 ] ] ] ,\t"sentence_id" : 3 , "image_id" : 42 }',
    '{"image_id":1.0,"sentence_id":1e0,"boxes":[]}',
    '{"image_id":"7","sentence_id":2,"boxes":[[],[[1,2,3,4]]]}',
    '{"image_id":"7","sentence_id":2,"boxes":[[[1,2,3,4]]],"extra":{"a":[1,"é\\u00e9",null,true]},"more":"x"}',
    '{"image_id":"\\u0037","sentence_id":4,"boxes":[[[1,2,3,4]]]}',
    '{"image_id":"é","sentence_id":4,"boxes":[[[1,2,3,4]]]}',
    '{"image_id":"7","sentence_id":"5","boxes":[[[1,2,3,4]]]}',
    '{"image_id":"7","sentence_id":5,"boxes":[[[1,2,3,4]]],"boxes":[[[9,9,9,9]]]}',
    '{"image_id":12345678901234567890,"sentence_id":-0,"boxes":[[[123456789012345678901234567890,0.1000000000000000055511151231257827,5e-324,1.7976931348623157e308]]]}',
    '{"sentence_id":6,"image_id":"8","boxes":[[[0.0000000000000000000000001,1,2,3],[4,5,6,7],[8,9,10,11]]]}',
  ];

  it("odd but valid predictions, at every batch size (pieces cut elements anywhere)", async () => {
    const random = seeded(13);
    const elements = Array.from({ length: 400 }, () => odd[Math.floor(random() * odd.length)]!);
    const text = `[${elements.join(",")}]`;
    for (const batchBytes of [3, 8, 17, 64, 300, 1 << 20]) {
      const { parse, split } = await both(text, batchBytes);
      assert.ok(parse.ok && split.ok, String(batchBytes));
      assert.equal(split.value.length, elements.length);
      assert.deepEqual(plain(split.value), plain(parse.value), `batch ${batchBytes}`);
    }
  });

  it("a long prediction (many phrases, many boxes) read whole", async () => {
    const random = seeded(3);
    const boxes = Array.from({ length: 40 }, () => Array.from({ length: 100 }, () => [random() * 500, random() * 400, random() * 500, random() * 400].map((x) => Math.round(x * 10) / 10)));
    const text = JSON.stringify([{ image_id: "1", sentence_id: 0, boxes }, { image_id: 2, sentence_id: 1, boxes: boxes.slice(0, 3) }]);
    for (const batchBytes of [64, 4096, 1 << 20]) {
      const { parse, split } = await both(text, batchBytes);
      assert.ok(parse.ok && split.ok);
      assert.deepEqual(plain(split.value), plain(parse.value));
    }
  });

  it("an object of predictions is refused as the parser refuses it, before any prediction is handed over", async () => {
    const good = odd[0]!;
    const file = join(tempDir(), "pred.json");
    writeFileSync(file, `{"a":${good},"b":${good}}`);
    for (const engine of ["parse", "split"] as const) {
      for (const batchBytes of [5, 1 << 20]) {
        let taken = 0;
        await assert.rejects(streamFlickrPredictions(file, { engine, batchBytes }, () => void taken++), /expected a list of predictions/, `${engine} at ${batchBytes}`);
        assert.equal(taken, 0, `${engine} at ${batchBytes}`);
      }
    }
  });

  it("refuses what the parser refuses, with the same message where it names a place", async () => {
    const good = odd[0]!;
    const bad = [
      '{"image_id":1.5,"sentence_id":0,"boxes":[]}',
      '{"image_id":"","sentence_id":0,"boxes":[]}',
      '{"image_id":null,"sentence_id":0,"boxes":[]}',
      '{"sentence_id":0,"boxes":[]}',
      '{"image_id":"1","sentence_id":-1,"boxes":[]}',
      '{"image_id":"1","sentence_id":0.5,"boxes":[]}',
      '{"image_id":"1","sentence_id":"x","boxes":[]}',
      '{"image_id":"1","boxes":[]}',
      '{"image_id":"1","sentence_id":0}',
      '{"image_id":"1","sentence_id":0,"boxes":{}}',
      '{"image_id":"1","sentence_id":0,"boxes":[[1,2,3,4]]}',
      '{"image_id":"1","sentence_id":0,"boxes":[[[1,2,3]]]}',
      '{"image_id":"1","sentence_id":0,"boxes":[[[1,2,3,"4"]]]}',
      '{"image_id":"1","sentence_id":0,"boxes":[[[1,2,3,1e400]]]}',
      '{"image_id":1e400,"sentence_id":0,"boxes":[]}',
      "7",
      "[]",
    ];
    for (const element of bad) {
      for (const batchBytes of [5, 1 << 20]) {
        assertSameRefusal(await both(`[${good},${good},${element},${good}]`, batchBytes), element, /\[2\]/);
      }
    }
    const syntax = ["[1,]", `[${good},]`, `[${good} ${good}]`, `[${good},,${good}]`, `[${good}`, `[${good}]x`, `[${good.replace("5.5", "05.5")}]`, `[${good.replace('"1000092795"', '"10\u0001"')}]`, `{"a":${good}}`];
    const notUtf8 = Buffer.concat([Buffer.from(`[${good},{"image_id":"1","sentence_id":0,"boxes":[],"x":"`), Buffer.from([0xff]), Buffer.from('"}]')]);
    for (const text of [...syntax, notUtf8]) {
      for (const batchBytes of [4, 1 << 20]) {
        const { parse, split } = await both(text, batchBytes);
        assert.ok(!parse.ok && !split.ok && split.error instanceof InputError, String(text));
      }
    }
  });
});
