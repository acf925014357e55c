/**
 * Many RLE masks kept compactly: each as its compressed counts string (about 1.2 bytes per run,
 * a quarter of Uint32 counts and far less than a bitmap), with its size, box and area. The strings
 * go into blocks of up to 32 MiB that are never copied or regrown, so a store of a gigabyte of
 * masks costs about a gigabyte (a doubling array would need three at its last growth). An LVIS
 * result file holds hundreds of masks per image; they are decoded one (category, image) at a time.
 */
import { Growable } from "../../core/growable.js";
import { rleArea, rleToBbox, type Rle } from "./rle.js";
import { decodeCountsBytes, rleToString } from "./rle-string.js";

export interface PackedRles {
  h: Uint32Array;
  w: Uint32Array;
  /** Mask i's string is blocks[block[i]][start[i] .. start[i] + length[i]). */
  block: Uint32Array;
  start: Uint32Array;
  length: Uint32Array;
  blocks: Uint8Array[];
  /**
   * rleToBbox of mask i at box[4i .. 4i + 4): IoU checks boxes before decoding anything. Whole
   * numbers of pixels, so float32 holds them exactly (up to 2^24 pixels a side) in half the memory.
   */
  box: Float32Array;
  /** rleArea of mask i. */
  area: Float64Array;
}

/**
 * Buffer's own latin1Write, where Node has it (all current versions, undocumented): the public
 * `write(text, at, "latin1")` normalises its arguments on every call, which costs more than the
 * copy for the short strings of masks (0.4 us per call on 300k masks).
 */
function writeLatin1(buffer: Buffer, text: string, at: number): number {
  const direct = (buffer as Buffer & { latin1Write?: (text: string, at: number) => number }).latin1Write;
  return direct ? direct.call(buffer, text, at) : buffer.write(text, at, "latin1");
}

const FIRST_BLOCK = 1 << 16;
const LARGEST_BLOCK = 32 << 20;

export class PackedRlesBuilder {
  private readonly h = new Growable(Uint32Array, 1 << 12);
  private readonly w = new Growable(Uint32Array, 1 << 12);
  private readonly block = new Growable(Uint32Array, 1 << 12);
  private readonly start = new Growable(Uint32Array, 1 << 12);
  private readonly length = new Growable(Uint32Array, 1 << 12);
  private readonly box = new Growable(Float32Array, 1 << 14);
  private readonly area = new Growable(Float64Array, 1 << 12);
  private readonly blocks: Uint8Array[] = [];
  /** The block being filled, as a Buffer (for its latin1 write), and how far. */
  private current = Buffer.alloc(0);
  private used = 0;

  push(rle: Rle): void {
    this.pushString(rle.h, rle.w, rleToString(rle.counts), rleToBbox(rle), rleArea(rle));
  }

  /** A counts string already checked to decode (characters 48..111, whole counts), its rleToBbox and area. */
  pushString(h: number, w: number, text: string, box: ArrayLike<number>, area: number): void {
    if (this.used + text.length > this.current.length) this.nextBlock(text.length);
    this.h.push(h);
    this.w.push(w);
    this.block.push(this.blocks.length);
    this.start.push(this.used);
    this.length.push(text.length);
    for (let k = 0; k < 4; k++) this.box.push(box[k]!);
    this.area.push(area);
    this.used += writeLatin1(this.current, text, this.used);
  }

  /** Blocks grow from 64 KiB to 32 MiB (small stores stay small); a longer string gets a block of its own. */
  private nextBlock(atLeast: number): void {
    if (this.current.length > 0) this.blocks.push(this.current.subarray(0, this.used));
    const size = Math.max(atLeast, Math.min(LARGEST_BLOCK, Math.max(FIRST_BLOCK, 2 * this.current.length)));
    this.current = Buffer.allocUnsafe(size);
    this.used = 0;
  }

  build(): PackedRles {
    // The block being filled is the one after those already closed: its index is blocks.length.
    const blocks = [...this.blocks, this.current.subarray(0, this.used)];
    return { h: this.h.view(), w: this.w.view(), block: this.block.view(), start: this.start.view(), length: this.length.view(), blocks, box: this.box.view(), area: this.area.view() };
  }
}

/**
 * Mask i, decoded (its counts were checked when it was packed). With `scratch` (at least as long
 * as the mask's string) the counts are a view of it, valid until the next decode into it: a loop
 * over hundreds of thousands of masks then allocates nothing per mask.
 */
export function unpackRle(packed: PackedRles, i: number, scratch?: Uint32Array): Rle {
  const start = packed.start[i]!;
  const decoded = decodeCountsBytes(packed.blocks[packed.block[i]!]!, start, start + packed.length[i]!, scratch);
  if ("problem" in decoded) throw new Error(`packed mask ${i}: ${decoded.problem}`);
  return { h: packed.h[i]!, w: packed.w[i]!, counts: decoded.counts };
}

/** Several stores as one, in order (the blocks are shared, not copied). */
export function concatPacked(parts: readonly PackedRles[]): PackedRles {
  if (parts.length === 1) return parts[0]!;
  const n = parts.reduce((sum, p) => sum + p.h.length, 0);
  const out: PackedRles = { h: new Uint32Array(n), w: new Uint32Array(n), block: new Uint32Array(n), start: new Uint32Array(n), length: new Uint32Array(n), blocks: [], box: new Float32Array(4 * n), area: new Float64Array(n) };
  let i = 0;
  for (const p of parts) {
    const m = p.h.length;
    out.h.set(p.h, i);
    out.w.set(p.w, i);
    for (let k = 0; k < m; k++) out.block[i + k] = p.block[k]! + out.blocks.length;
    out.start.set(p.start, i);
    out.length.set(p.length, i);
    out.box.set(p.box, 4 * i);
    out.area.set(p.area, i);
    out.blocks.push(...p.blocks);
    i += m;
  }
  return out;
}
