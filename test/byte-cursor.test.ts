import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ByteCursor } from "../src/json/byte-cursor.js";
import { readDetections } from "../src/formats/lvis/detections.js";
import { readLvisGroundTruth } from "../src/formats/lvis/annotations.js";
import { InputError } from "../src/core/errors.js";
import { assertSameRefusal, readWithBothEngines, seeded } from "./helpers.js";

/** What ByteCursor.number reads from `text` at 0: [value, end] or undefined. */
function readNumber(text: string): [number, number] | undefined {
  const cursor = new ByteCursor();
  cursor.at(Buffer.from(text, "latin1"), 0);
  return cursor.number() ? [cursor.value, cursor.pos] : undefined;
}

describe("ByteCursor numbers read as JSON.parse reads them", () => {
  it("edge cases, bit for bit (Object.is: -0 too)", () => {
    const cases = [
      "0", "-0", "-0.0", "0.0", "1", "-1", "0.1", "0.3", "1e22", "1e23", "1E+2", "1e-2", "-1.5e-7",
      "9007199254740992", "9007199254740993", "9007199254740995", "123456789012345678901234567890",
      "0.1000000000000000055511151231257827", "5e-324", "2e-324", "1.7976931348623157e308",
      "1.7976931348623159e308", "1e400", "-1e400", "2.2250738585072011e-308", "0.0000000000000000000000001",
      "4.35", "0.07", "1234567890.123456", "0.000001", "100e-2", "17.000000000000000001",
      // Digits of 2^53 + 1: the running mantissa rounds to 2^53 on its last step.
      "90.07199254740993", "9007.199254740993", "0.0009007199254740993", "900719925.4740993", "-90.07199254740993", "9007199254740992.5",
    ];
    for (const text of cases) assert.ok(Object.is(readNumber(text)?.[0], JSON.parse(text)), text);
    // The same numbers through boxList's own copy of the fast path (the finite ones, four a box).
    const finite = cases.filter((text) => Number.isFinite(JSON.parse(text)));
    const boxes = Array.from({ length: Math.ceil(finite.length / 4) }, (_, b) => Array.from({ length: 4 }, (_, k) => finite[(4 * b + k) % finite.length]!));
    const cursor = new ByteCursor();
    cursor.at(Buffer.from(`[${boxes.map((box) => `[${box.join(",")}]`).join(",")}]`, "latin1"), 0);
    assert.equal(cursor.boxList(), boxes.length);
    boxes.flat().forEach((text, i) => assert.ok(Object.is(cursor.boxes[i], JSON.parse(text)), `boxList: ${text}`));
  });

  it("random decimals and exponents", () => {
    const random = seeded(5);
    for (let k = 0; k < 20000; k++) {
      const digits = 1 + Math.floor(random() * 19);
      let text = String(1 + Math.floor(random() * 9));
      for (let d = 1; d < digits; d++) text += String(Math.floor(random() * 10));
      const dot = Math.floor(random() * (digits + 1));
      if (dot > 0 && dot < digits) text = `${text.slice(0, dot)}.${text.slice(dot)}`;
      if (random() < 0.3) text = `0.${"0".repeat(Math.floor(random() * 25))}${text.replace(".", "")}`;
      if (random() < 0.3) text += `e${random() < 0.5 ? "-" : "+"}${Math.floor(random() * 40)}`;
      if (random() < 0.5) text = `-${text}`;
      const got = readNumber(text);
      assert.ok(got && Object.is(got[0], JSON.parse(text)) && got[1] === text.length, text);
    }
  });

  it("long numbers (Python's float32 results) across text windows, in one batch and after a new one", () => {
    // Float32 values as Python writes them: 16-17 digits, all read by Number() from a window of
    // the batch's text; 60 KB of them cross several windows, and numbers straddle their edges.
    const random = seeded(9);
    const boxes = Array.from({ length: 1500 }, () => Array.from({ length: 4 }, () => Math.fround(random() * 1000)));
    const text = `[${boxes.map((box) => `[${box.join(", ")}]`).join(",\n")}]`;
    assert.ok(text.length > 60000);
    const cursor = new ByteCursor();
    for (const pad of ["", " ", "  "]) {
      // A new batch (other bytes, other offsets) at each pass: no text of the last one is reused.
      cursor.at(Buffer.from(pad + text, "latin1"), pad.length);
      assert.equal(cursor.boxList(), boxes.length);
      boxes.flat().forEach((value, i) => assert.ok(Object.is(cursor.boxes[i], value), `box value ${i}`));
    }
    for (const value of boxes.flat().slice(0, 200)) assert.ok(Object.is(readNumber(String(value))?.[0], value));
    // Numbers longer than a window.
    for (const long of [`1.${"0".repeat(20000)}`, `0.${"0".repeat(20000)}1`, `-2${"0".repeat(17000)}e-17000`]) assert.ok(Object.is(readNumber(long)?.[0], JSON.parse(long)), long.slice(0, 12));
  });

  it("box lists: what JSON.parse reads, or -1, whichever reader takes them (WebAssembly for plain decimals)", () => {
    const random = seeded(21);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const odd = ["0", "-0", "0.0", "00", "01", "1e5", "1E-3", "-", ".5", "5.", "186.2591094970703", "12345678901234567890", "9007199254740993", "0.00000000000000000000001", "0.0000000000000000000001", "1.5e", "Infinity", "1" + "0".repeat(400), " 2", "\t7\n", "4x", "+1", "1:5", "2/3", "7.:", "-:"];
    const plain = () => `${random() < 0.2 ? "-" : ""}${Math.floor(random() * 1000)}${random() < 0.7 ? `.${Math.floor(random() * 1000)}` : ""}`;
    const space = () => (random() < 0.1 ? pick([" ", "\n", "\t", "\r"]) : "");
    const box = () => (random() < 0.002 ? pick(["[1,2,3]", "[1,2,3,4,5]", "[]", "{}"]) : `[${space()}${Array.from({ length: 4 }, () => (random() < 0.005 ? pick(odd) : plain()) + space()).join(`,${space()}`)}]`);
    const cursor = new ByteCursor();
    let read = 0;
    for (let t = 0; t < 600; t++) {
      // Up to 2,500 boxes: past the 1,024 the WebAssembly reader makes room for at first.
      const closed = random() > 0.03;
      const list = `${space()}[${Array.from({ length: Math.floor(random() ** 4 * 2500) }, box).join(`${space()},`)}${closed ? "]" : ""}`;
      // (What follows a list that is not closed does not close it.)
      const text = `xx${list}${pick(closed ? ["", ",", "}", " ]"] : ["", ",", "}"])}`;
      let expected: number[][] | undefined;
      try {
        const parsed: unknown = JSON.parse(list);
        if (Array.isArray(parsed) && parsed.every((b) => Array.isArray(b) && b.length === 4 && b.every((v) => typeof v === "number" && Number.isFinite(v)))) expected = parsed as number[][];
      } catch {
        expected = undefined;
      }
      cursor.at(Buffer.from(text, "latin1"), 2);
      const count = cursor.boxList();
      if (!expected) {
        assert.equal(count, -1, list.slice(0, 80));
        continue;
      }
      read++;
      assert.equal(count, expected.length);
      assert.equal(cursor.pos, 2 + list.length);
      expected.flat().forEach((value, i) => assert.ok(Object.is(cursor.boxes[i], value), `box value ${i}`));
    }
    assert.ok(read > 200, `${read} lists read`);
  });

  it("stops where the JSON number ends, and refuses what is none", () => {
    assert.deepEqual(readNumber("01"), [0, 1]);
    assert.deepEqual(readNumber("12,"), [12, 2]);
    for (const bad of ["-", "1.", ".5", "+1", "1e", "1e+", "-a", "Infinity", "NaN", "", " 1"]) assert.equal(readNumber(bad), undefined, bad);
  });
});

describe("LVIS detections: the fast path keeps what the parser would", () => {
  const gt = {
    imageIndex: new Map([[1, 0], [2, 1], [3, 2]]),
    categoryIndex: new Map([[1, 0], [5, 1], [9, 2]]),
  };
  const odd = [
    '{"image_id":1,"category_id":5,"bbox":[1,2,3,4],"score":0.5}',
    ' {\n "score" : 0.25 ,\t"bbox" : [ 0.5 , 1e1 , 2E-1 , -0 ] , "category_id":9 , "image_id":2 }',
    '{"image_id":1.0,"category_id":1e0,"bbox":[1,2,3,4],"score":1}',
    '{"image_id":3,"category_id":1,"bbox":[1,2,3,4],"score":0.1,"segmentation":{"size":[2,2],"counts":"é\\u00e9"},"area":[1,{"a":null}]}',
    '{"im\\u0061ge_id":2,"category_id":1,"bbox":[1,2,3,4],"score":0.2}',
    '{"image_id":2,"category_id":1,"bbox":[1,2,3,4],"score":0.2,"score":0.9}',
    '{"image_id":2,"category_id":1,"bbox":[1,2,3,4],"score":123456789012345678901234567890}',
    '{"image_id":7,"category_id":1,"bbox":[1,2,3,4],"score":0.3}',
    '{"image_id":3,"category_id":9,"bbox":[9,8,7,6],"score":0.0000000000000000000000001}',
  ];

  const both = (text: string | Buffer, ignoreUnknownImages: boolean, batchBytes: number) =>
    readWithBothEngines("dets.json", text, batchBytes, (file, settings) => readDetections(file, gt, ignoreUnknownImages, settings));

  it("odd but valid detections, at every batch size (pieces cut elements anywhere)", async () => {
    const random = seeded(9);
    const elements = Array.from({ length: 400 }, () => odd[Math.floor(random() * odd.length)]!);
    const text = `[${elements.join(",")}]`;
    for (const batchBytes of [3, 8, 17, 64, 300, 1 << 20]) {
      const { parse, split } = await both(text, true, batchBytes);
      assert.ok(parse.ok && split.ok, String(batchBytes));
      for (const column of ["image", "category", "bbox", "score"] as const) {
        assert.deepEqual(Array.from(split.value[column]), Array.from(parse.value[column]), `${column} at batch ${batchBytes}`);
      }
      assert.deepEqual(split.value.unknownImages, parse.value.unknownImages);
      assert.equal(split.value.score.length, elements.filter((e) => !e.includes('"image_id":7')).length);
    }
  });

  it("refuses what the parser refuses, with the same message where it names a place", async () => {
    const good = odd[0]!;
    const bad = [
      '{"image_id":7,"category_id":1,"bbox":[1,2,3,4],"score":0.3}',
      '{"image_id":1,"category_id":2,"bbox":[1,2,3,4],"score":0.3}',
      '{"image_id":1,"category_id":1,"bbox":[1,2,-3,4],"score":0.3}',
      '{"image_id":1,"category_id":1,"bbox":[1,2,3],"score":0.3}',
      '{"image_id":1.5,"category_id":1,"bbox":[1,2,3,4],"score":0.3}',
      '{"image_id":1,"category_id":1,"bbox":[1,2,3,4],"score":1e400}',
      '{"image_id":1,"category_id":1,"bbox":[1,2,3,4]}',
      '{"image_id":1,"category_id":1,"bbox":[1,2,3,4],"score":"0.3"}',
    ];
    for (const element of bad) {
      for (const batchBytes of [5, 1 << 20]) {
        assertSameRefusal(await both(`[${good},${good},${element},${good}]`, false, batchBytes), element, /\[2\]/);
      }
    }
    const syntax = ["[1,]", `[${good},]`, `[${good} ${good}]`, `[${good},,${good}]`, `[${good}`, `[${good}]x`, `[${good.replace("0.5", "01")}]`, `[${good.replace("0.5", "0.5\u0001")}]`];
    // Not UTF-8 inside a member nobody reads.
    const notUtf8 = Buffer.concat([Buffer.from(`[${good},{"image_id":1,"category_id":1,"bbox":[1,2,3,4],"score":0.5,"x":"`), Buffer.from([0xff]), Buffer.from('"}]')]);
    for (const text of [...syntax, notUtf8]) {
      for (const batchBytes of [4, 1 << 20]) {
        const { parse, split } = await both(text, false, batchBytes);
        assert.ok(!parse.ok && !split.ok && split.error instanceof InputError, String(text));
      }
    }
  });
});

describe("LVIS annotations (box AP): the fast path keeps what the parser would", () => {
  const head = '{"images":[{"id":1,"neg_category_ids":[],"not_exhaustive_category_ids":[]},{"id":2,"neg_category_ids":[5],"not_exhaustive_category_ids":[]}],'
    + '"categories":[{"id":1,"name":"a","frequency":"r"},{"id":5,"name":"b","frequency":"f"}],"annotations":[';
  const odd = [
    '{"id":1,"image_id":1,"category_id":5,"bbox":[1,2,3,4],"area":12,"segmentation":[[1,2,3,4,5,6]]}',
    ' {\n "segmentation" : {"size":[2,2],"counts":"é\\u00e9"} , "area" : 1e1, "bbox" : [ 0.5 , 1e1 , 2E-1 , -0 ] ,"id":22, "category_id":1 , "image_id":2 }',
    '{"id":3.0,"image_id":1.0,"category_id":1e0,"bbox":[1,2,3,4],"area":0,"iscrowd":0}',
    '{"id":4,"image_id":2,"category_id":1,"bbox":[1,2,3,4],"area":5,"ignore":1}',
    '{"id":5,"image_id":2,"category_id":1,"bbox":[1,2,3,4],"area":5,"ignore":-0}',
    '{"id":6,"image_id":2,"category_id":1,"bbox":[1,2,3,4],"area":5,"ignore":true}',
    '{"id":7,"image_id":2,"category_id":1,"bbox":[1,2,3,4],"area":5,"ignore":"yes"}',
    '{"id":8,"im\\u0061ge_id":2,"category_id":1,"bbox":[1,2,3,4],"area":5}',
    '{"id":9,"image_id":2,"category_id":1,"bbox":[1,2,3,4],"area":5,"area":7}',
    '{"id":10,"image_id":1,"category_id":5,"bbox":[1,2,3,4],"area":123456789012345678901234567890,"segmentation":[]}',
  ];

  const both = (text: string | Buffer, batchBytes: number) => readWithBothEngines("gt.json", text, batchBytes, readLvisGroundTruth);

  it("odd but valid annotations, at every batch size (pieces cut elements anywhere)", async () => {
    const random = seeded(11);
    const elements = Array.from({ length: 300 }, () => odd[Math.floor(random() * odd.length)]!);
    const text = `${head}${elements.join(",")}]}`;
    for (const batchBytes of [3, 8, 17, 64, 300, 1 << 20]) {
      const { parse, split } = await both(text, batchBytes);
      assert.ok(parse.ok && split.ok, String(batchBytes));
      for (const column of ["image", "category", "bbox", "area", "id", "ignore"] as const) {
        assert.deepEqual(Array.from(split.value.annotations[column]), Array.from(parse.value.annotations[column]), `${column} at batch ${batchBytes}`);
      }
      assert.equal(split.value.annotations.id.length, elements.length);
    }
  });

  it("refuses what the parser refuses, with the same message, naming the annotation", async () => {
    const good = odd[0]!;
    const bad = [
      '{"id":1,"image_id":3,"category_id":1,"bbox":[1,2,3,4],"area":1}',
      '{"id":1,"image_id":1,"category_id":2,"bbox":[1,2,3,4],"area":1}',
      '{"id":1,"image_id":1,"category_id":1,"bbox":[1,2,-3,4],"area":1}',
      '{"id":1,"image_id":1,"category_id":1,"bbox":[1,2,3],"area":1}',
      '{"id":1.5,"image_id":1,"category_id":1,"bbox":[1,2,3,4],"area":1}',
      '{"id":1,"image_id":1,"category_id":1,"bbox":[1,2,3,4],"area":1e400}',
      '{"id":1,"image_id":1,"category_id":1,"bbox":[1,2,3,4]}',
      '{"id":1,"image_id":1,"category_id":1,"bbox":[1,2,3,4],"area":"1"}',
      '{"id":1,"image_id":1,"category_id":1,"bbox":[1,2,3,4],"area":1,"segmentation":[[1,2,1e400]]}',
      '{"id":1,"imag\\u0065_id":1,"category_id":1,"bbox":[1,2,3,4],"area":1,"segmentation":[[1,2,1e400]]}',
    ];
    for (const element of bad) {
      for (const batchBytes of [5, 1 << 20]) {
        assertSameRefusal(await both(`${head}${good},${good},${element},${good}]}`, batchBytes), element, /annotations\[2\]/);
      }
    }
    const notUtf8 = Buffer.concat([Buffer.from(`${head}${good},{"id":1,"image_id":1,"category_id":1,"bbox":[1,2,3,4],"area":1,"segmentation":"`), Buffer.from([0xff]), Buffer.from('"}]}')]);
    for (const text of [`${head}${good},]}`, `${head}${good} ${good}]}`, `${head}${good.replace("12", "012")}]}`, notUtf8]) {
      for (const batchBytes of [4, 1 << 20]) {
        const { parse, split } = await both(text, batchBytes);
        assert.ok(!parse.ok && !split.ok && split.error instanceof InputError, String(text));
      }
    }
  });
});
