/**
 * COCO segmentations in the three forms files hold, read as pycocotools reads them
 * (`_mask.pyx frPyObjects`, `COCO.annToRLE`, `LVIS.ann_to_rle`):
 * - polygons `[[x1, y1, x2, y2, ...], ...]`, rasterised at the image's size, parts united;
 * - uncompressed RLE `{size: [h, w], counts: [int, ...]}` (crowd annotations);
 * - compressed RLE `{size: [h, w], counts: "string"}` (results files).
 * What pycocotools cannot read (or reads as something else) is an InputError at its JSON path.
 */
import { InputError } from "../core/errors.js";
import type { PackedRlesBuilder } from "../compat/coco-mask/packed.js";
import { rleFromPolygon } from "../compat/coco-mask/polygon.js";
import { mergeRles, type Rle } from "../compat/coco-mask/rle.js";
import { rleFromString, scanCountsString } from "../compat/coco-mask/rle-string.js";
import { describeJsonValue, isRecord } from "../json/validate.js";

export type Segmentation =
  | { kind: "polygons"; parts: readonly (readonly number[])[] }
  | { kind: "uncompressed"; h: number; w: number; counts: Uint32Array }
  /** Checked in one pass (`scanCountsString`); its counts are decoded only when asked for. */
  | { kind: "compressed"; h: number; w: number; text: string; area: number; box: [number, number, number, number] };

const FORMS = "expected polygons [[x1, y1, x2, y2, ...], ...] or an RLE {size: [h, w], counts}";

/** Checks a segmentation value (`at` is its JSON path, e.g. `annotations[3].segmentation`). */
export function checkSegmentation(file: string, at: string, value: unknown): Segmentation {
  if (Array.isArray(value)) return { kind: "polygons", parts: checkPolygons(file, at, value) };
  if (!isRecord(value)) throw new InputError(file, at, `${FORMS}, got ${describeJsonValue(value)}`);
  const [h, w] = checkSize(file, `${at}.size`, value["size"]);
  const counts = value["counts"];
  if (typeof counts === "string") {
    const scan = scanCountsString(counts, h, w);
    if ("problem" in scan) throw new InputError(file, `${at}.counts`, scan.problem);
    if (scan.pixels !== h * w) throw new InputError(file, `${at}.counts`, sumProblem(scan.pixels, h, w));
    return { kind: "compressed", h, w, text: counts, area: scan.area, box: scan.box };
  }
  if (!Array.isArray(counts)) throw new InputError(file, `${at}.counts`, `expected a list of run lengths or a compressed RLE string, got ${describeJsonValue(counts)}`);
  const runs = new Uint32Array(counts.length);
  counts.forEach((c: unknown, i) => {
    if (typeof c !== "number" || !Number.isInteger(c) || c < 0 || c > 0xffffffff) throw new InputError(file, `${at}.counts[${i}]`, `expected a run length (an integer >= 0), got ${describeJsonValue(c)}`);
    runs[i] = c;
  });
  checkSum(file, `${at}.counts`, runs, h, w);
  return { kind: "uncompressed", h, w, counts: runs };
}

function checkPolygons(file: string, at: string, value: unknown[]): number[][] {
  // frPyObjects looks at the first element's length: 4 numbers read as a box list (a TypeError
  // there), fewer or an empty list fall through every branch.
  if (value.length === 0) throw new InputError(file, at, "an empty polygon list (pycocotools cannot read it; leave the annotation out)");
  value.forEach((part, i) => {
    if (!Array.isArray(part)) throw new InputError(file, `${at}[${i}]`, `expected a polygon [x1, y1, x2, y2, ...], got ${describeJsonValue(part)}`);
    part.forEach((v: unknown, j) => {
      if (typeof v !== "number" || !Number.isFinite(v)) throw new InputError(file, `${at}[${i}][${j}]`, `expected a finite number, got ${describeJsonValue(v)}`);
    });
  });
  const first = (value[0] as number[]).length;
  if (first <= 4) throw new InputError(file, `${at}[0]`, `the first polygon has ${first} numbers; pycocotools needs more than 4 (3 points or more)`);
  return value as number[][];
}

function checkSize(file: string, at: string, value: unknown): [number, number] {
  const ok = Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === "number" && Number.isInteger(v) && v >= 0);
  if (!ok) throw new InputError(file, at, `expected [height, width] as two integers >= 0, got ${describeJsonValue(value)}`);
  return value as [number, number];
}

function checkSum(file: string, at: string, counts: Uint32Array, h: number, w: number): void {
  let sum = 0;
  for (const c of counts) sum += c;
  if (sum !== h * w) throw new InputError(file, at, sumProblem(sum, h, w));
}

function sumProblem(sum: number, h: number, w: number): string {
  return `the runs add up to ${sum} pixels, but size ${h} x ${w} has ${h * w}`;
}

/** A compressed RLE's size against its image's (h x w). */
export function checkRleSize(file: string, at: string, segmentation: { h: number; w: number }, h: number, w: number): void {
  if (segmentation.h !== h || segmentation.w !== w) throw new InputError(file, `${at}.size`, `[${segmentation.h}, ${segmentation.w}] is not the image's size [${h}, ${w}] (height, width)`);
}

/**
 * The mask of a checked segmentation on an image of h x w: polygons rasterised and united
 * (`merge(frPyObjects(segm, h, w))`), an RLE as it is, which must be of the image's size.
 */
export function segmentationRle(file: string, at: string, segmentation: Segmentation, h: number, w: number): Rle {
  if (segmentation.kind === "polygons") return mergeRles(segmentation.parts.map((part) => rleFromPolygon(part, h, w)), false);
  checkRleSize(file, at, segmentation, h, w);
  if (segmentation.kind === "uncompressed") return { h, w, counts: segmentation.counts };
  const decoded = rleFromString(segmentation.text);
  if ("problem" in decoded) throw new InputError(file, `${at}.counts`, decoded.problem);
  return { h, w, counts: decoded.counts };
}

/** An image's `height` and `width` (what polygons are rasterised at): integers >= 1. */
export function checkImageSize(file: string, at: string, image: Record<string, unknown>, why: string): { height: number; width: number } {
  const size = { height: 0, width: 0 };
  for (const key of ["height", "width"] as const) {
    const value = image[key];
    if (typeof value !== "number" || !Number.isInteger(value) || value < 1) throw new InputError(file, `${at}.${key}`, `expected the image's ${key} in pixels (an integer >= 1; ${why}), got ${describeJsonValue(value)}`);
    size[key] = value;
  }
  return size;
}

/**
 * Adds a checked segmentation's mask on an h x w image to a packed store: a compressed RLE as its
 * string (its size checked, its counts never decoded: the scan gave its box and area), anything
 * else rasterised and encoded.
 */
export function packSegmentation(packed: PackedRlesBuilder, file: string, at: string, segmentation: Segmentation, h: number, w: number): void {
  if (segmentation.kind === "compressed") {
    checkRleSize(file, at, segmentation, h, w);
    packed.pushString(h, w, segmentation.text, segmentation.box, segmentation.area);
  } else packed.push(segmentationRle(file, at, segmentation, h, w));
}
