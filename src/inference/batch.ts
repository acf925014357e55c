/**
 * Model inputs for a batch: the images' normalised planes (images.ts) zero-padded to the largest
 * in the batch, with `pixel_mask` marking real pixels (DETR's NestedTensor); prompts padded to
 * the longest, with `attention_mask`.
 */
import ort from "onnxruntime-node";
import type { PreparedImage } from "./images.js";
import type { ImageOutputs } from "./postprocess.js";
import type { ModelSession } from "./session.js";
import type { EncodedPrompt } from "./tokenizer.js";

export interface BatchItem {
  image: PreparedImage;
  prompt: EncodedPrompt;
}

type IntegerArray = BigInt64Array | Int32Array | Uint8Array | Float32Array;

/**
 * The pixel tensor is the largest allocation per batch (10 MB for one 1066x800 image); one run
 * reuses its buffers to spare the garbage collector. Safe because a batch's model run finishes
 * before the next batch is built.
 */
export class TensorBuffers {
  private buffer = new Float32Array(0);
  private mask = new BigInt64Array(0);
  /** The picture sizes whose mask `mask` holds ("" when none). */
  private maskLayout = "";

  /** A float32 view of `length` elements, holding whatever the last batch left: batchFeeds writes every element. */
  pixels(length: number): Float32Array {
    if (this.buffer.length < length) this.buffer = new Float32Array(length);
    return this.buffer.subarray(0, length);
  }

  /**
   * The int64 pixel_mask (7 MB for one 1066x800 image), and whether it holds the mask of `layout`
   * (the picture sizes of the batch) already: the last batch had the same sizes (a folder of
   * equal pictures), so filling it again (0.3 ms a 1066x800 picture) can be skipped.
   */
  int64Mask(length: number, layout: string): { data: BigInt64Array; ready: boolean } {
    if (this.mask.length < length) {
      this.mask = new BigInt64Array(length);
      this.maskLayout = "";
    }
    const ready = this.maskLayout === layout;
    this.maskLayout = layout;
    return { data: this.mask.subarray(0, length), ready };
  }
}

/** A zeroed array of the element type the model declares for an integer input (int64 if unsaid). */
function integerArray(type: string | undefined, length: number): { data: IntegerArray; one: bigint | number; kind: "int64" | "int32" | "bool" | "float32" } {
  switch (type) {
    case "int32":
      return { data: new Int32Array(length), one: 1, kind: "int32" };
    case "bool":
      return { data: new Uint8Array(length), one: 1, kind: "bool" };
    case "float32":
      return { data: new Float32Array(length), one: 1, kind: "float32" };
    default:
      return { data: new BigInt64Array(length), one: 1n, kind: "int64" };
  }
}

/** Fills [start, end) with the type's 1 (fill() avoids converting one value per element). */
function fillOnes(array: ReturnType<typeof integerArray>, start: number, end: number): void {
  (array.data as { fill(value: bigint | number, start: number, end: number): unknown }).fill(array.one, start, end);
}

/** Fills [start, end) with the type's 0. */
function fillZeros(array: ReturnType<typeof integerArray>, start: number, end: number): void {
  (array.data as { fill(value: bigint | number, start: number, end: number): unknown }).fill(array.kind === "int64" ? 0n : 0, start, end);
}

export function batchFeeds(items: readonly BatchItem[], model: ModelSession, padId: number, reusable: TensorBuffers = new TensorBuffers()): Record<string, ort.Tensor> {
  const b = items.length;
  const height = Math.max(...items.map((i) => i.image.resized.height));
  const width = Math.max(...items.map((i) => i.image.resized.width));
  const plane = height * width;
  // One image fills the tensor: its own planes are the tensor, no copy (unless they are in shared
  // memory, from an image thread: onnxruntime refuses a tensor there).
  const alone = b === 1 && items[0]!.image.resized.planes.buffer instanceof ArrayBuffer;
  const pixels = alone ? items[0]!.image.resized.planes : reusable.pixels(b * 3 * plane);
  if (!alone) items.forEach(({ image }, n) => {
    const { planes, width: w, height: h } = image.resized;
    // The prompts of one picture (LVIS: 1,203 of them) share it: copy its planes, do not redo them.
    if (n > 0 && items[n - 1]!.image === image) {
      pixels.copyWithin(n * 3 * plane, (n - 1) * 3 * plane, n * 3 * plane);
      return;
    }
    if (w === width && h === height) {
      pixels.set(planes, n * 3 * plane);
    } else {
      for (let c = 0; c < 3; c++) {
        const base = (n * 3 + c) * plane;
        for (let y = 0; y < h; y++) {
          pixels.set(planes.subarray((c * h + y) * w, (c * h + y + 1) * w), base + y * width);
          // The padding right of the picture: zero (the buffers are reused, not cleared).
          if (w < width) pixels.fill(0, base + y * width + w, base + (y + 1) * width);
        }
        pixels.fill(0, base + h * width, base + plane);
      }
    }
  });
  const length = Math.max(...items.map((i) => i.prompt.ids.length));
  const ids = integerArray(model.inputTypes.get("input_ids"), b * length);
  const attention = integerArray(model.inputTypes.get("attention_mask"), b * length);
  items.forEach(({ prompt }, n) => {
    for (let t = 0; t < length; t++) {
      const id = t < prompt.ids.length ? prompt.ids[t]! : padId;
      ids.data[n * length + t] = ids.kind === "int64" ? BigInt(id) : id;
    }
    fillOnes(attention, n * length, n * length + prompt.ids.length);
  });
  const tensor = (array: ReturnType<typeof integerArray>, dims: number[]) => new ort.Tensor(array.kind, array.data, dims);
  const feeds: Record<string, ort.Tensor> = {
    pixel_values: new ort.Tensor("float32", pixels, [b, 3, height, width]),
    input_ids: tensor(ids, [b, length]),
    attention_mask: tensor(attention, [b, length]),
  };
  if (model.hasPixelMask) feeds["pixel_mask"] = tensor(pixelMask(items, width, height, model.inputTypes.get("pixel_mask"), reusable), [b, height, width]);
  if (model.hasTokenTypeIds) feeds["token_type_ids"] = tensor(integerArray(model.inputTypes.get("token_type_ids"), b * length), [b, length]);
  return feeds;
}

/**
 * `pixel_mask`: 1 over each picture, 0 over its padding. An int64 mask (the usual) is kept from
 * batch to batch and rebuilt only when the pictures' sizes change.
 */
function pixelMask(items: readonly BatchItem[], width: number, height: number, maskType: string | undefined, reusable: TensorBuffers): ReturnType<typeof integerArray> {
  const plane = height * width;
  const length = items.length * plane;
  const layout = () => `${width}x${height}:${items.map((i) => `${i.image.resized.width}x${i.image.resized.height}`).join(",")}`;
  const reused = maskType === undefined || maskType === "int64" ? reusable.int64Mask(length, layout()) : undefined;
  const mask = reused ? { data: reused.data, one: 1n, kind: "int64" as const } : integerArray(maskType, length);
  if (reused?.ready) return mask;
  items.forEach(({ image }, n) => {
    if (n > 0 && items[n - 1]!.image === image) {
      mask.data.copyWithin(n * plane, (n - 1) * plane, n * plane);
      return;
    }
    const { width: w, height: h } = image.resized;
    for (let y = 0; y < h; y++) {
      fillOnes(mask, n * plane + y * width, n * plane + y * width + w);
      fillZeros(mask, n * plane + y * width + w, n * plane + (y + 1) * width);
    }
    fillZeros(mask, n * plane + h * width, (n + 1) * plane);
  });
  return mask;
}

/** Runs one batch and splits the outputs per image. */
export async function runBatch(model: ModelSession, feeds: Record<string, ort.Tensor>, batchSize: number): Promise<ImageOutputs[]> {
  const results = await model.session.run(feeds);
  const boxes = results["pred_boxes"]!;
  const logits = results[model.logitsName]!;
  const [, queries, positions] = logits.dims as [number, number, number];
  const boxData = boxes.data as Float32Array;
  const logitData = logits.data as Float32Array;
  return Array.from({ length: batchSize }, (_, n) => ({
    boxes: boxData.subarray(n * queries * 4, (n + 1) * queries * 4),
    logits: logitData.subarray(n * queries * positions, (n + 1) * queries * positions),
    queries,
    positions,
  }));
}
