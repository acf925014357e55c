/**
 * The RLE codec against every fixture the real pycocotools produced (test/fixtures/golden/masks/codec):
 * the counts string both ways, encode / decode / area / toBbox, polygon and box rasterisation,
 * uncompressed RLE, mask and box IoU, merge.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { rleFromBox, rleFromPolygon } from "../src/compat/coco-mask/polygon.js";
import { boxIous, decodeRle, encodeMask, mergeRles, rleArea, rleIous, rleToBbox, type Rle } from "../src/compat/coco-mask/rle.js";
import { rleFromString, rleToString } from "../src/compat/coco-mask/rle-string.js";
import { fixtures } from "./helpers.js";

interface JsonRle {
  size: [number, number];
  counts: string;
}

function codecCases<T>(group: string): T[] {
  const file = JSON.parse(readFileSync(join(fixtures, "golden/masks/codec", `${group}.json`), "utf8")) as { group: string; cases: T[] };
  assert.equal(file.group, group);
  assert.ok(file.cases.length > 0);
  return file.cases;
}

function fromJson(rle: JsonRle): Rle {
  const decoded = rleFromString(rle.counts);
  if ("problem" in decoded) throw new Error(decoded.problem);
  return { h: rle.size[0], w: rle.size[1], counts: decoded.counts };
}

function toJson(rle: Rle): JsonRle {
  return { size: [rle.h, rle.w], counts: rleToString(rle.counts) };
}

/** Row strings (top row first) -> the column-major bytes RLE works on. */
function maskFromRows(rows: string[]): { mask: Uint8Array; h: number; w: number } {
  const h = rows.length, w = rows[0]?.length ?? 0;
  const mask = new Uint8Array(h * w);
  rows.forEach((row, y) => {
    for (let x = 0; x < w; x++) mask[x * h + y] = row[x] === "1" ? 1 : 0;
  });
  return { mask, h, w };
}

function rowsFromMask(mask: Uint8Array, h: number, w: number): string[] {
  return Array.from({ length: h }, (_, y) => Array.from({ length: w }, (_, x) => String(mask[x * h + y])).join(""));
}

const bbox = (rle: Rle) => Array.from(rleToBbox(rle));

describe("RLE codec = pycocotools", () => {
  it("string: rleToString and rleFrString", () => {
    for (const c of codecCases<{ counts: number[]; size: [number, number]; string: string; decoded_counts?: number[] }>("string")) {
      assert.equal(rleToString(c.counts), c.string, JSON.stringify(c.counts));
      const back = rleFromString(c.string);
      assert.ok("counts" in back);
      assert.deepEqual(Array.from(back.counts), c.decoded_counts ?? c.counts);
    }
  });

  it("encode: counts, string, area, toBbox", () => {
    for (const c of codecCases<{ mask: string[]; rle: JsonRle; counts: number[]; area: number; bbox: number[] }>("encode")) {
      const { mask, h, w } = maskFromRows(c.mask);
      const rle = encodeMask(mask, h, w);
      assert.deepEqual(Array.from(rle.counts), c.counts);
      assert.deepEqual(toJson(rle), c.rle);
      assert.equal(rleArea(rle), c.area);
      assert.deepEqual(bbox(rle), c.bbox);
    }
  });

  it("decode: mask, area, toBbox", () => {
    for (const c of codecCases<{ rle: JsonRle; mask: string[]; area: number; bbox: number[] }>("decode")) {
      const rle = fromJson(c.rle);
      assert.deepEqual(rowsFromMask(decodeRle(rle), rle.h, rle.w), c.mask);
      assert.equal(rleArea(rle), c.area);
      assert.deepEqual(bbox(rle), c.bbox);
    }
  });

  it("poly: rleFrPoly per part, merged, mask, area", () => {
    const cases = codecCases<{ name: string; h: number; w: number; polygons: number[][]; parts: JsonRle[]; merged: JsonRle; mask: string[]; area: number }>("poly");
    assert.ok(cases.length >= 88);
    for (const c of cases) {
      const parts = c.polygons.map((p) => rleFromPolygon(p, c.h, c.w));
      assert.deepEqual(parts.map(toJson), c.parts, c.name);
      const merged = mergeRles(parts, false);
      assert.deepEqual(toJson(merged), c.merged, c.name);
      assert.deepEqual(rowsFromMask(decodeRle(merged), c.h, c.w), c.mask, c.name);
      assert.equal(rleArea(merged), c.area, c.name);
    }
  });

  it("bbox: rleFrBbox", () => {
    for (const c of codecCases<{ box: number[]; h: number; w: number; rle: JsonRle; mask: string[]; area: number }>("bbox")) {
      const rle = rleFromBox(c.box, c.h, c.w);
      assert.deepEqual(toJson(rle), c.rle, JSON.stringify(c.box));
      assert.deepEqual(rowsFromMask(decodeRle(rle), c.h, c.w), c.mask);
      assert.equal(rleArea(rle), c.area);
    }
  });

  it("ucrle: uncompressed RLE keeps its counts as given", () => {
    for (const c of codecCases<{ ucrle: { size: [number, number]; counts: number[] }; rle: JsonRle; mask: string[]; area: number }>("ucrle")) {
      const rle: Rle = { h: c.ucrle.size[0], w: c.ucrle.size[1], counts: Uint32Array.from(c.ucrle.counts) };
      assert.deepEqual(toJson(rle), c.rle);
      assert.deepEqual(rowsFromMask(decodeRle(rle), rle.h, rle.w), c.mask);
      assert.equal(rleArea(rle), c.area);
    }
  });

  it("iou: mask IoU with the box pre-check, crowd and -1 for other sizes", () => {
    for (const c of codecCases<{ dt: JsonRle[]; gt: JsonRle[]; iscrowd: number[]; iou: number[][] }>("iou")) {
      const ious = rleIous(c.dt.map(fromJson), c.gt.map(fromJson), c.iscrowd);
      assert.deepEqual(Array.from({ length: c.dt.length }, (_, d) => Array.from(ious.subarray(d * c.gt.length, (d + 1) * c.gt.length))), c.iou);
    }
  });

  it("bbiou: box IoU in float64", () => {
    for (const c of codecCases<{ dt: number[][]; gt: number[][]; iscrowd: number[]; iou: number[][] }>("bbiou")) {
      const ious = boxIous(Float64Array.from(c.dt.flat()), Float64Array.from(c.gt.flat()), c.iscrowd);
      assert.deepEqual(Array.from({ length: c.dt.length }, (_, d) => Array.from(ious.subarray(d * c.gt.length, (d + 1) * c.gt.length))), c.iou);
    }
  });

  it("merge: union and intersection", () => {
    for (const c of codecCases<{ rles: JsonRle[]; intersect: number; rle: JsonRle; mask: string[] }>("merge")) {
      const merged = mergeRles(c.rles.map(fromJson), c.intersect === 1);
      assert.deepEqual(toJson(merged), c.rle);
      assert.deepEqual(rowsFromMask(decodeRle(merged), merged.h, merged.w), c.mask);
    }
  });

  it("refuses strings rleFrString would misread", () => {
    assert.match((rleFromString("0a") as { problem: string }).problem, /ends inside a count/);
    assert.match((rleFromString("0 1") as { problem: string }).problem, /character 1/);
  });
});

describe("scanCountsString = rleFrString + rleArea + rleToBbox", () => {
  it("on every RLE of the fixtures", async () => {
    const { scanCountsString } = await import("../src/compat/coco-mask/rle-string.js");
    const rles: JsonRle[] = [
      ...codecCases<{ rle: JsonRle }>("decode").map((c) => c.rle),
      ...codecCases<{ rle: JsonRle }>("encode").map((c) => c.rle),
      ...codecCases<{ parts: JsonRle[]; merged: JsonRle }>("poly").flatMap((c) => [...c.parts, c.merged]),
      ...codecCases<{ rles: JsonRle[] }>("merge").flatMap((c) => c.rles),
      ...codecCases<{ counts: number[]; size: [number, number]; string: string }>("string").map((c) => ({ size: c.size, counts: c.string })),
    ];
    assert.ok(rles.length > 300);
    for (const json of rles) {
      const rle = fromJson(json);
      const scan = scanCountsString(json.counts, rle.h, rle.w);
      assert.ok("box" in scan, json.counts);
      assert.deepEqual({ runs: scan.runs, area: scan.area, box: scan.box }, { runs: rle.counts.length, area: rleArea(rle), box: bbox(rle) }, json.counts);
      assert.equal(scan.pixels, rle.counts.reduce((a, b) => a + b, 0));
    }
  });
});
