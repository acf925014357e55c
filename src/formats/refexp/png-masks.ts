/**
 * Mask predictions as a folder of PNGs, `<id>.png` per expression (other files are ignored), as
 * RIS code bases dump them. Foreground is any colour channel nonzero after decoding: a palette is
 * expanded to its colours, alpha is ignored, and 16-bit samples keep their 16 bits (a 16-bit mask
 * of 0 and 1 is a mask; scaled to 8 bits its 1s would vanish). Each PNG is decoded by sharp to a
 * bitmap and encoded as a column-major COCO RLE.
 */
import { readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import type { Sharp } from "sharp";
import { InputError, UsageError } from "../../core/errors.js";
import { FolderHash, type InputLog } from "../../core/inputs.js";
import { encodeMask, type Rle } from "../../compat/coco-mask/rle.js";

export interface PngMasks {
  folder: string;
  /** Per expression: its mask, or undefined when the folder has no `<id>.png`. */
  masks: (Rle | undefined)[];
  files: number;
}

export interface PngTargets {
  ids: readonly string[];
  height: Uint32Array;
  width: Uint32Array;
}

/** PNGs decoded at once: sharp decodes on libuv's threads, so a few in flight keep them busy. */
const IN_FLIGHT = 16;

export async function readPngMasks(folder: string, targets: PngTargets, inputs?: InputLog): Promise<PngMasks> {
  let names: string[];
  try {
    names = await readdir(folder);
  } catch (error) {
    throw new UsageError(`${folder}: cannot read the folder: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  const expressionOf = new Map(targets.ids.map((id, e) => [`${id}.png`, e]));
  // Sorted by name, so the folder's hash does not depend on the annotations' order.
  const wanted = names.filter((name) => expressionOf.has(name)).sort();
  const masks: (Rle | undefined)[] = new Array<Rle | undefined>(targets.ids.length).fill(undefined);
  const hash = new FolderHash();
  // Loaded here: sharp's start-up is paid only by runs that read PNGs.
  const sharp = (await import("sharp")).default;
  const load = async (name: string) => {
    const path = join(folder, name);
    const e = expressionOf.get(name)!;
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (error) {
      throw new InputError(path, undefined, `cannot read: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
    const mask = await decodeMask(path, sharp(bytes, { failOn: "error", ignoreIcc: true }), targets.ids[e]!, targets.height[e]!, targets.width[e]!);
    return { name, e, bytes, mask };
  };
  // Each in flight as a settled result, so that one failing while an earlier one is awaited is
  // not an unhandled rejection; errors surface in name order.
  type Loaded = Awaited<ReturnType<typeof load>>;
  const pending: Promise<{ ok: true; value: Loaded } | { ok: false; error: unknown }>[] = [];
  let next = 0;
  const refill = () => {
    while (pending.length < IN_FLIGHT && next < wanted.length) {
      pending.push(load(wanted[next++]!).then((value) => ({ ok: true as const, value }), (error: unknown) => ({ ok: false as const, error })));
    }
  };
  refill();
  while (pending.length > 0) {
    const settled = await pending.shift()!;
    if (!settled.ok) {
      await Promise.all(pending);
      throw settled.error;
    }
    // In name order: the hash takes the files one after the other.
    const { name, e, bytes, mask } = settled.value;
    hash.add(name, bytes);
    masks[e] = mask;
    refill();
  }
  inputs?.record({ path: folder, ...hash.digest() });
  return { folder, masks, files: wanted.length };
}

/** One PNG as the RLE of its foreground; its size must be the expression's image's. */
async function decodeMask(path: string, image: Sharp, id: string, h: number, w: number): Promise<Rle> {
  let data: Buffer;
  let info: { width: number; height: number; channels: number };
  let sixteen: boolean;
  let grey: boolean;
  try {
    const meta = await image.metadata();
    if (meta.format !== "png") throw new InputError(path, undefined, `not a PNG (sharp reads it as ${meta.format ?? "an unknown format"})`);
    sixteen = meta.depth === "ushort";
    grey = meta.space === "b-w" || meta.space === "grey16";
    // The file's own interpretation, at its own depth: no conversion that could round a sample.
    const space = grey ? (sixteen ? "grey16" : "b-w") : sixteen ? "rgb16" : "srgb";
    ({ data, info } = await image.toColourspace(space).raw(sixteen ? { depth: "ushort" } : {}).toBuffer({ resolveWithObject: true }));
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError(path, undefined, `cannot decode the PNG: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (info.width !== w || info.height !== h) {
    throw new InputError(path, undefined, `the mask is ${info.width} x ${info.height} pixels (width x height), but expression ${id}'s image is ${w} x ${h}`);
  }
  const bytesPerSample = sixteen ? 2 : 1;
  const stride = info.channels * bytesPerSample;
  // The colour samples' bytes (alpha, when there, comes after them); a sample is nonzero when any
  // of its bytes is, whatever the byte order. Not from info.hasAlpha: toColourspace("b-w") drops
  // the alpha band of a grey + alpha PNG and still reports hasAlpha.
  const colourBytes = Math.min(grey ? 1 : 3, info.channels) * bytesPerSample;
  // PNG rows are row-major; COCO RLE runs down the columns: pixel (x, y) goes to x * h + y.
  const columnMajor = new Uint8Array(h * w);
  for (let y = 0, p = 0; y < h; y++) {
    // One loop per sample layout: the general one, a byte loop per pixel, costs 3x on big masks.
    if (colourBytes === 1) {
      for (let x = 0, to = y; x < w; x++, p += stride, to += h) if (data[p] !== 0) columnMajor[to] = 1;
    } else if (colourBytes === 3) {
      for (let x = 0, to = y; x < w; x++, p += stride, to += h) if ((data[p]! | data[p + 1]! | data[p + 2]!) !== 0) columnMajor[to] = 1;
    } else {
      for (let x = 0, to = y; x < w; x++, p += stride, to += h) {
        let any = 0;
        for (let b = 0; b < colourBytes; b++) any |= data[p + b]!;
        if (any !== 0) columnMajor[to] = 1;
      }
    }
  }
  return encodeMask(columnMajor, h, w);
}
