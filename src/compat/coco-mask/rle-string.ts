/**
 * The compressed `counts` string of COCO RLE (cocoapi maskApi.c `rleToString` / `rleFrString`): each
 * count, or from the fourth on its difference to the count two before (the previous run of the same
 * colour), in groups of 5 bits, least significant first, as the characters 48..111: bit 0x20 says
 * another group follows, bit 0x10 of the last group is the sign. Arithmetic is done on doubles
 * (exact up to 2^53) where C uses `long`, and stored modulo 2^32 as C's `(uint)` cast does.
 */
import { rleToBbox } from "./rle.js";

/** `rleToString`. */
export function rleToString(counts: ArrayLike<number>): string {
  const chars: number[] = [];
  writeCountsString(counts, (c) => chars.push(c));
  // In slices: a spread of millions of arguments overflows the stack.
  let out = "";
  for (let i = 0; i < chars.length; i += 8192) out += String.fromCharCode(...chars.slice(i, i + 8192));
  return out;
}

/** rleToString's characters (as char codes), one call of `emit` each. */
export function writeCountsString(counts: ArrayLike<number>, emit: (charCode: number) => void): void {
  for (let i = 0; i < counts.length; i++) {
    let x = counts[i]!;
    if (i > 2) x -= counts[i - 2]!;
    let more = true;
    while (more) {
      // x & 0x1f and x >>= 5 on a two's-complement long: the floor modulo and the floor division.
      let c = x - Math.floor(x / 32) * 32;
      x = Math.floor(x / 32);
      more = c & 0x10 ? x !== -1 : x !== 0;
      if (more) c |= 0x20;
      emit(c + 48);
    }
  }
}

/** Why a counts string cannot be decoded, or undefined. Strings are what `rleFrString` reads. */
export type CountsStringResult = { counts: Uint32Array } | { problem: string };

/**
 * `rleFrString`, refusing what the C code would read past its end or make up: a character outside
 * 48..111 and a last group that announces another.
 */
export function rleFromString(text: string): CountsStringResult {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 48 || code > 111) return { problem: `character ${i} (${JSON.stringify(text[i])}) is not in the RLE alphabet '0'..'o'` };
    bytes[i] = code;
  }
  return decodeCountsBytes(bytes, 0, bytes.length);
}

/** rleFrString over bytes already known to lie in 48..111 (the compact store of a reader). */
export function decodeCountsBytes(bytes: Uint8Array, start: number, end: number, into?: Uint32Array): CountsStringResult {
  // At most one count per character.
  const cnts = into && into.length >= end - start ? into : new Uint32Array(end - start);
  let m = 0;
  let p = start;
  while (p < end) {
    let x = 0;
    let scale = 1;
    let c = 0x20;
    while (c & 0x20) {
      if (p >= end) return { problem: "the string ends inside a count (its last character has the continuation bit 0x20)" };
      c = bytes[p++]! - 48;
      x += (c & 0x1f) * scale;
      scale *= 32;
    }
    // Sign extension: x |= -1 << 5k for the x < 2^(5k) built so far.
    if (c & 0x10) x -= scale;
    if (m > 2) x += cnts[m - 2]!;
    // C's (uint) cast of the long: ToUint32, exact for any integer-valued double.
    cnts[m++] = x >>> 0;
  }
  return { counts: cnts.subarray(0, m) };
}

/** What `scanCountsString` learns of a mask in one pass: its area and `rleToBbox` box. */
export interface CountsScan {
  /** Number of counts. */
  runs: number;
  /** Sum of the counts (must be h * w). */
  pixels: number;
  area: number;
  /** [x, y, w, h] as rleToBbox gives it. */
  box: [number, number, number, number];
}

/**
 * rleFrString, rleArea and rleToBbox in one pass over the string, without storing the counts:
 * result files hold hundreds of thousands of masks, and reading one needs only its area, its box
 * and whether it is whole. The box follows rleToBbox count for count (`uint` arithmetic, a trailing
 * 0-run ignored), so it equals `rleToBbox(rleFromString(text))`.
 */
export function scanCountsString(text: string, h: number, w: number): CountsScan | { problem: string } {
  const n = text.length;
  let p = 0;
  let m = 0;
  // The two counts before the current one (delta coding from the fourth on).
  let before2 = 0, before1 = 0;
  let pixels = 0, area = 0;
  // rleToBbox's state. Count j is folded in when count j + 1 arrives (or at the end when j is odd),
  // since rleToBbox skips the last count of an odd number of counts.
  let cc = 0, xs = w, ys = h, xe = 0, ye = 0, xp = 0;
  let pending = 0;
  let col = 0, colStart = 0;
  for (;;) {
    const atEnd = p >= n;
    // rleToBbox's step for count j = m - 1, once count m shows it is not the last of an odd m.
    if (m > 0 && (!atEnd || ((m - 1) & 1) === 1)) {
      const odd = (m - 1) & 1;
      cc = (cc + pending) >>> 0;
      const t = (cc - odd) >>> 0;
      // col = floor(t / h): t rarely moves more than a column, so step instead of dividing.
      if (t < colStart || t - colStart >= 4 * h) {
        col = Math.floor(t / h);
        colStart = col * h;
      } else {
        while (t >= colStart + h) {
          colStart += h;
          col++;
        }
      }
      const y = t - colStart;
      if (odd === 0) xp = col;
      else if (xp < col) {
        ys = 0;
        ye = h - 1;
      }
      if (col < xs) xs = col;
      if (col > xe) xe = col;
      if (y < ys) ys = y;
      if (y > ye) ye = y;
    }
    if (atEnd) break;
    // Up to 6 groups (30 bits) in int32 arithmetic; longer values (counts of 2^29 and more) in doubles.
    let x = 0;
    let shift = 0;
    let c = 0x20;
    while (c & 0x20) {
      if (p >= n) return { problem: "the string ends inside a count (its last character has the continuation bit 0x20)" };
      const code = text.charCodeAt(p++);
      if (code < 48 || code > 111) return { problem: `character ${p - 1} (${JSON.stringify(text[p - 1])}) is not in the RLE alphabet '0'..'o'` };
      c = code - 48;
      if (shift === 30) return longCount(text, h, w);
      x |= (c & 0x1f) << shift;
      shift += 5;
    }
    // Sign extension of the last group (x |= -1 << 5k).
    if (c & 0x10) x |= -1 << shift;
    // (uint) of the long sum, which ToUint32 (>>> 0) is.
    const count = (m > 2 ? x + before2 : x) >>> 0;
    pending = count;
    pixels += count;
    if (m & 1) area += count;
    before2 = before1;
    before1 = count;
    m++;
  }
  const box: [number, number, number, number] = m < 2 ? [0, 0, 0, 0] : [xs, ys, (xe - xs + 1) >>> 0, (ye - ys + 1) >>> 0];
  return { runs: m, pixels, area: area >>> 0, box };
}

/** The slow path of scanCountsString for strings with a count of 7 groups or more: decode, then measure. */
function longCount(text: string, h: number, w: number): CountsScan | { problem: string } {
  const decoded = rleFromString(text);
  if ("problem" in decoded) return decoded;
  const { counts } = decoded;
  let pixels = 0, area = 0;
  counts.forEach((c, i) => {
    pixels += c;
    if (i & 1) area += c;
  });
  const box = rleToBbox({ h, w, counts });
  return { runs: counts.length, pixels, area: area >>> 0, box: [box[0]!, box[1]!, box[2]!, box[3]!] };
}
