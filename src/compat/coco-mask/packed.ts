/**
 * Many RLE masks kept compactly: each as its compressed counts string (about 1.5 bytes per count,
 * a quarter of Uint32 counts and far less than a bitmap) in one byte array, with its size. An LVIS
 * result file holds hundreds of masks per image; they are decoded one (category, image) at a time.
 */
import { Growable } from "../../core/growable.js";
import { rleArea, rleToBbox, type Rle } from "./rle.js";
import { decodeCountsBytes, writeCountsString } from "./rle-string.js";

export interface PackedRles {
  h: Uint32Array;
  w: Uint32Array;
  /** Mask i is bytes[start[i] .. start[i + 1]); an empty range is "no mask". */
  start: Float64Array;
  bytes: Uint8Array;
  /**
   * rleToBbox of mask i at box[4i .. 4i + 4): IoU checks boxes before decoding anything. Whole
   * numbers of pixels, so float32 holds them exactly (up to 2^24 pixels a side) in half the memory.
   */
  box: Float32Array;
  /** rleArea of mask i. */
  area: Float64Array;
}

export class PackedRlesBuilder {
  private readonly h = new Growable(Uint32Array, 1 << 12);
  private readonly w = new Growable(Uint32Array, 1 << 12);
  private readonly start = new Growable(Float64Array, 1 << 12);
  private readonly bytes = new Growable(Uint8Array, 1 << 20);
  private readonly box = new Growable(Float32Array, 1 << 14);
  private readonly area = new Growable(Float64Array, 1 << 12);

  get length(): number {
    return this.h.length;
  }

  push(rle: Rle): void {
    this.open(rle.h, rle.w, rleToBbox(rle), rleArea(rle));
    writeCountsString(rle.counts, (c) => this.bytes.push(c));
  }

  /** A counts string already checked to decode (characters 48..111, whole counts), its rleToBbox and area. */
  pushString(h: number, w: number, text: string, box: ArrayLike<number>, area: number): void {
    this.open(h, w, box, area);
    this.bytes.pushLatin1(text);
  }

  pushAbsent(): void {
    this.open(0, 0, [0, 0, 0, 0], 0);
  }

  private open(h: number, w: number, box: ArrayLike<number>, area: number): void {
    this.area.push(area);
    this.h.push(h);
    this.w.push(w);
    this.start.push(this.bytes.length);
    for (let k = 0; k < 4; k++) this.box.push(box[k]!);
  }

  build(): PackedRles {
    const start = new Float64Array(this.start.length + 1);
    start.set(this.start.view());
    start[this.start.length] = this.bytes.length;
    return { h: this.h.view(), w: this.w.view(), start, bytes: this.bytes.view(), box: this.box.view(), area: this.area.view() };
  }
}

export function hasMask(packed: PackedRles, i: number): boolean {
  return packed.start[i + 1]! > packed.start[i]!;
}

/**
 * Mask i, decoded (its counts were checked when it was packed). With `scratch` (at least as long
 * as the mask's string) the counts are a view of it, valid until the next decode into it: a loop
 * over hundreds of thousands of masks then allocates nothing per mask.
 */
export function unpackRle(packed: PackedRles, i: number, scratch?: Uint32Array): Rle {
  const decoded = decodeCountsBytes(packed.bytes, packed.start[i]!, packed.start[i + 1]!, scratch);
  if ("problem" in decoded) throw new Error(`packed mask ${i}: ${decoded.problem}`);
  return { h: packed.h[i]!, w: packed.w[i]!, counts: decoded.counts };
}

/** Several stores as one, in order. */
export function concatPacked(parts: readonly PackedRles[]): PackedRles {
  if (parts.length === 1) return parts[0]!;
  const n = parts.reduce((sum, p) => sum + p.h.length, 0);
  const out: PackedRles = { h: new Uint32Array(n), w: new Uint32Array(n), start: new Float64Array(n + 1), bytes: new Uint8Array(parts.reduce((sum, p) => sum + p.bytes.length, 0)), box: new Float32Array(4 * n), area: new Float64Array(n) };
  let i = 0;
  let byte = 0;
  for (const p of parts) {
    const m = p.h.length;
    out.h.set(p.h, i);
    out.w.set(p.w, i);
    for (let k = 0; k < m; k++) out.start[i + k] = p.start[k]! + byte;
    out.bytes.set(p.bytes, byte);
    out.box.set(p.box, 4 * i);
    out.area.set(p.area, i);
    i += m;
    byte += p.bytes.length;
  }
  out.start[n] = byte;
  return out;
}
